using System.Buffers;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// A reusable <see cref="MemoryManager{T}"/> over native (shared) memory, so a lease can hand out
/// <see cref="Memory{T}"/> and <see cref="ReadOnlySequence{T}"/> views of slices without copying or allocating.
/// </summary>
/// <remarks>
/// Owned by one lease core and re-pointed on every use; the memory is kept mapped by the lease's reference. It
/// references its core, so a user who still holds a <see cref="Memory{T}"/> or sequence view keeps the core alive (its
/// leak finalizer must not recycle slices someone is reading).
/// </remarks>
internal sealed unsafe class NativeMemoryManager(LeaseCore owner) : MemoryManager<byte>
{
    private byte* _pointer;
    private int _length;

    /// <summary>The lease core whose slices this manager views.</summary>
    public LeaseCore Owner { get; } = owner;

    public void Reset(byte* pointer, int length)
    {
        _pointer = pointer;
        _length = length;
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
        // Shared memory never moves.
    }

    protected override void Dispose(bool disposing)
    {
        _pointer = null;
        _length = 0;
    }
}
