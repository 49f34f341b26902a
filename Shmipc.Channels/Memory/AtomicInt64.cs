using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Memory;

/// <summary>
/// A 64-bit integer in shared memory, accessed only through methods whose names state the memory ordering
/// (docs/CONTRIBUTING.md, habit 12). Used for the queue head and tail indexes.
/// </summary>
/// <remarks>
/// The amd64 queue layout puts head/tail at offsets 4 and 12, i.e. misaligned (shmipc-go compatibility). On x86/x64
/// the <c>lock</c>-prefixed instructions behind <see cref="Interlocked"/> are atomic on misaligned addresses (a
/// cache-line split becomes a "split lock": correct, but slow); a plain 8-byte load is atomic only if it does not
/// cross a cache line, exactly as with Go's <c>atomic.LoadInt64</c> (a torn read would need the upper half to
/// change, i.e. 2^32 increments during one read). On arm64 the arm layout keeps head/tail 8-aligned, which the
/// hardware requires for atomics.
/// </remarks>
internal readonly unsafe struct AtomicInt64
{
    private readonly long* _address;

    /// <summary>Wraps the 8 bytes at <paramref name="address"/>.</summary>
    public AtomicInt64(byte* address) => _address = (long*)address;

    /// <summary>Acquire load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long VolatileRead() => Volatile.Read(ref *_address);

    /// <summary>Release store: earlier stores become visible before this one. No store→load fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OrderedWrite(long value) => Volatile.Write(ref *_address, value);

    /// <summary>Sequentially consistent store (full fence; Go <c>atomic.Store</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void VolatileWrite(long value) => Interlocked.Exchange(ref *_address, value);

    /// <summary>Full-fence compare-and-swap; returns the value seen before the operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long CompareExchange(long value, long comparand) => Interlocked.CompareExchange(ref *_address, value, comparand);

    /// <summary>Full-fence atomic add; returns the new value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Add(long delta) => Interlocked.Add(ref *_address, delta);

    /// <summary>Full-fence atomic exchange; returns the previous value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Exchange(long value) => Interlocked.Exchange(ref *_address, value);
}
