using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Memory;

/// <summary>
/// A 32-bit integer in shared memory, accessed only through methods whose names state the memory ordering
/// (docs/CONTRIBUTING.md, habit 12). The struct holds just the pointer; it does not own the memory.
/// </summary>
/// <remarks>
/// Unsigned protocol fields (list head/tail, queue flag) use this type with <c>unchecked</c> casts: the bit
/// pattern is what is shared. On x86/x64 <see cref="Interlocked"/> works on misaligned addresses (lock prefix);
/// on arm64 callers must pass 4-aligned addresses (the layouts guarantee it when slice sizes are multiples of 4,
/// which <see cref="BufferManager"/> enforces there).
/// </remarks>
internal readonly unsafe struct AtomicInt32
{
    private readonly int* _address;

    /// <summary>Wraps the 4 bytes at <paramref name="address"/>.</summary>
    public AtomicInt32(byte* address) => _address = (int*)address;

    /// <summary>Acquire load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int VolatileRead() => Volatile.Read(ref *_address);

    /// <summary>Release store: earlier stores become visible before this one. No store→load fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OrderedWrite(int value) => Volatile.Write(ref *_address, value);

    /// <summary>Sequentially consistent store (full fence; Go <c>atomic.Store</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void VolatileWrite(int value) => Interlocked.Exchange(ref *_address, value);

    /// <summary>Full-fence compare-and-swap; returns the value seen before the operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CompareExchange(int value, int comparand) => Interlocked.CompareExchange(ref *_address, value, comparand);

    /// <summary>Full-fence atomic add; returns the new value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Add(int delta) => Interlocked.Add(ref *_address, delta);

    /// <summary>Full-fence atomic exchange; returns the previous value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Exchange(int value) => Interlocked.Exchange(ref *_address, value);
}
