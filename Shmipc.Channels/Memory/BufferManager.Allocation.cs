using System.Runtime.CompilerServices;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Memory;

/// <content>Allocation, chain building and recycling (docs/PROTOCOL.md §4.6, §4.7).</content>
internal sealed unsafe partial class BufferManager
{
    /// <summary>
    /// Allocates one slice that can hold <paramref name="size"/> bytes (Go <c>allocShmBuffer</c>): tries the lists in
    /// order (ascending size) from the first whose capPerBuffer ≥ size, moving to larger lists when one is empty.
    /// </summary>
    /// <param name="size">Bytes needed (0 allowed).</param>
    /// <param name="sliceOffset">Region offset of the slice header; flags = InUse, size/start as left by the last owner (0).</param>
    /// <returns>False if no list with large enough slices has a free slice (shmipc <c>ErrNoMoreBuffer</c>).</returns>
    public bool TryAllocate(int size, out uint sliceOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if ((uint)size <= MaxSliceSize)
        {
            foreach (BufferList list in _lists)
            {
                if ((uint)size <= list.CapPerBuffer && list.TryPop(out sliceOffset))
                {
                    return true;
                }
            }
        }

        sliceOffset = 0;
        return false;
    }

    /// <summary>
    /// Allocates slices for a <paramref name="size"/>-byte message (Go <c>alloc(n)</c> without the heap fallback):
    /// one slice if possible (<see cref="TryAllocate"/>), otherwise slices from the largest list down to the
    /// smallest (Go <c>allocShmBuffers</c>) until their capacity covers <paramref name="size"/>.
    /// All or nothing: on failure every slice taken is recycled and 0 is returned.
    /// </summary>
    /// <param name="size">Message bytes (0 allowed: one slice).</param>
    /// <param name="offsets">Receives the slice offsets in message order; too small a span is a failure (returns 0).</param>
    /// <returns>The number of slices written to <paramref name="offsets"/>, or 0 (<c>ErrNoMoreBuffer</c>).</returns>
    /// <remarks>The slices are not linked yet: write the data, then call <see cref="CommitChain"/>.</remarks>
    public int TryAllocateChain(long size, Span<uint> offsets)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (offsets.IsEmpty)
        {
            return 0;
        }

        if (size <= MaxSliceSize && TryAllocate((int)size, out offsets[0]))
        {
            return 1;
        }

        int count = 0;
        long remaining = size;
        try
        {
            for (int i = _lists.Length - 1; i >= 0 && remaining > 0; i--)
            {
                BufferList list = _lists[i];
                while (remaining > 0 && count < offsets.Length && list.TryPop(out uint offset))
                {
                    offsets[count++] = offset;
                    remaining -= list.CapPerBuffer;
                }
            }
        }
        catch
        {
            RecycleAll(offsets[..count]);
            throw;
        }

        if (remaining > 0)
        {
            RecycleAll(offsets[..count]);
            return 0;
        }

        return count;
    }

    /// <summary>Sets a slice's valid length: <c>size = length</c>, <c>start = 0</c> (Go <c>bufferSlice.update</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> exceeds the slice's cap.</exception>
    public void SetSliceLength(uint sliceOffset, int length)
    {
        BufferList list = ResolveSlice(sliceOffset, "slice");
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, list.CapPerBuffer);
        byte* header = _base + sliceOffset;
        Unsafe.WriteUnaligned(header + SliceSizeOffset, (uint)length);
        Unsafe.WriteUnaligned(header + SliceStartOffset, 0u);
    }

    /// <summary>
    /// Links the slices in order: each one's <c>next</c> = the following slice's absolute offset with HasNext set;
    /// the last one gets HasNext cleared (unlike Go's dangling-hasNext quirk, §14.9). InUse bits are kept.
    /// </summary>
    /// <remarks>Plain stores: the queue tail increment that announces the message publishes them.</remarks>
    public void LinkChain(ReadOnlySpan<uint> slices)
    {
        for (int i = 0; i < slices.Length; i++)
        {
            ResolveSlice(slices[i], "slice");
            byte* header = _base + slices[i];
            if (i + 1 < slices.Length)
            {
                Unsafe.WriteUnaligned(header + SliceNextOffset, slices[i + 1]);
                header[SliceFlagsOffset] |= SliceFlagHasNext;
            }
            else
            {
                header[SliceFlagsOffset] &= unchecked((byte)~SliceFlagHasNext);
            }
        }
    }

    /// <summary>
    /// Finishes a message written into <paramref name="slices"/> (Go <c>linkedBuffer.done</c>): fills the slices in
    /// order with <paramref name="messageLength"/> bytes (each full except the last used one), links the used ones,
    /// and recycles the slices that were not needed.
    /// </summary>
    /// <returns>The number of slices now in the chain (at least 1); its first slice is <c>slices[0]</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The slices cannot hold <paramref name="messageLength"/> bytes.</exception>
    public int CommitChain(ReadOnlySpan<uint> slices, long messageLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(messageLength);
        ArgumentOutOfRangeException.ThrowIfZero(slices.Length);
        long remaining = messageLength;
        int used = 0;
        while (used < slices.Length && (used == 0 || remaining > 0))
        {
            uint cap = ResolveSlice(slices[used], "slice").CapPerBuffer;
            int length = (int)Math.Min(cap, remaining);
            SetSliceLength(slices[used], length);
            remaining -= length;
            used++;
        }

        if (remaining > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(messageLength), messageLength, $"{slices.Length} slices cannot hold the message");
        }

        LinkChain(slices[..used]);
        RecycleAll(slices[used..]);
        return used;
    }

    /// <summary>
    /// Returns one slice to its list (Go <c>recycleBuffer</c>). The list is the one whose slice region contains the
    /// offset, and the header's cap must equal its capPerBuffer (Go: first list with that capPerBuffer; the same
    /// for every layout a shmipc creator produces, and safe with duplicate sizes).
    /// </summary>
    /// <exception cref="ShmipcException">CorruptSharedMemory: not a slice header, or a cap mismatch.</exception>
    /// <remarks>Recycling a slice twice corrupts the shared free list, as in Go; owners must recycle exactly once.</remarks>
    public void Recycle(uint sliceOffset) => ResolveSlice(sliceOffset, "recycle").Push(sliceOffset);

    /// <summary>
    /// Returns every slice of a received chain (Go <c>recycleBuffers</c>), following absolute <c>next</c> links
    /// while HasNext. The whole chain is validated first (<see cref="EnumerateChain"/>), so a corrupt chain throws
    /// before anything is recycled and a looping chain never causes a double push.
    /// </summary>
    /// <returns>The number of slices recycled.</returns>
    /// <exception cref="ShmipcException">CorruptSharedMemory, naming the offset and the slice index in the chain.</exception>
    public int RecycleChain(uint firstOffset)
    {
        int count = 0;
        SliceChainEnumerator validation = EnumerateChain(firstOffset);
        while (validation.MoveNext())
        {
            count++;
        }

        int recycled = 0;
        foreach (SliceSegment segment in EnumerateChain(firstOffset))
        {
            if (recycled == count)
            {
                // The peer rewrote the chain between the two walks; what is left is not ours to push.
                MemoryThrowHelper.ThrowCorrupt($"chain at {firstOffset} changed while it was being recycled (longer than the {count} slices validated)");
            }

            Recycle(segment.SliceOffset);
            recycled++;
        }

        return recycled;
    }

    private void RecycleAll(ReadOnlySpan<uint> slices)
    {
        foreach (uint offset in slices)
        {
            Recycle(offset);
        }
    }
}
