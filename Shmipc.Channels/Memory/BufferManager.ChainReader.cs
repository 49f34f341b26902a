namespace Shmipc.Channels.Memory;

/// <content>The hardened reader of received message chains (docs/PROTOCOL.md §4.8).</content>
internal sealed partial class BufferManager
{
    /// <summary>
    /// Walks the chain that starts at <paramref name="firstOffset"/> (a queue element's offset), validating each
    /// slice as it goes (see <see cref="SliceChainEnumerator"/>). Allocation-free: <c>foreach (var s in m.EnumerateChain(o))</c>.
    /// </summary>
    /// <remarks>The exception for a corrupt slice comes when the walk reaches it, so segments yielded before it
    /// must be discarded with the whole message; <see cref="TryReadChain"/> validates everything first.</remarks>
    public SliceChainEnumerator EnumerateChain(uint firstOffset) => new(this, firstOffset);

    /// <summary>
    /// Validates the whole chain starting at <paramref name="firstOffset"/> and writes its segments (empty slices
    /// included, <see cref="SliceSegment.Length"/> 0) to <paramref name="destination"/>.
    /// </summary>
    /// <param name="firstOffset">Region offset of the first slice header (from the queue element).</param>
    /// <param name="destination">Receives the segments in message order.</param>
    /// <param name="segmentCount">Slices in the chain (also when <paramref name="destination"/> is too small).</param>
    /// <param name="totalLength">Message bytes: the sum of the segment lengths.</param>
    /// <returns>False if <paramref name="destination"/> is too small; the chain was still fully validated and
    /// <paramref name="segmentCount"/> says how many entries are needed.</returns>
    /// <exception cref="ShmipcException">CorruptSharedMemory: an offset outside every slice region or inside a
    /// slice, a cap that is not the list's capPerBuffer, start + size &gt; cap, a loop, or a chain longer than
    /// the region's slice count.</exception>
    public bool TryReadChain(uint firstOffset, Span<SliceSegment> destination, out int segmentCount, out long totalLength)
    {
        int count = 0;
        long total = 0;
        foreach (SliceSegment segment in EnumerateChain(firstOffset))
        {
            if (count < destination.Length)
            {
                destination[count] = segment;
            }

            count++;
            total += segment.Length;
        }

        segmentCount = count;
        totalLength = total;
        return count <= destination.Length;
    }
}
