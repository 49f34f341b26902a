namespace Shmipc.Channels.Inspection;

/// <summary>One buffer list of a buffer region as read from its 36-byte header, plus what walking its free list found.</summary>
/// <param name="Index">Position of the list in the region.</param>
/// <param name="ListOffset">Region offset of the list header.</param>
/// <param name="SliceSize">The header's capPerBuffer: data bytes per slice.</param>
/// <param name="Capacity">The header's cap: slices in the list.</param>
/// <param name="FreeCount">The header's size: free slices as counted by the processes.</param>
/// <param name="Head">The header's head (relative to the first slice).</param>
/// <param name="Tail">The header's tail (relative to the first slice).</param>
/// <param name="CreatorCounter">The counter at +20 (pops minus pushes of the creating process).</param>
/// <param name="MapperCounter">The counter at +24 (pops minus pushes of the mapping process).</param>
/// <param name="FreeListLength">Slices reached by walking the free list from head.</param>
/// <param name="SlicesNotFree">Every slice the walk did not reach.</param>
internal sealed record BufferListReport(
    int Index,
    uint ListOffset,
    uint SliceSize,
    uint Capacity,
    int FreeCount,
    uint Head,
    uint Tail,
    int CreatorCounter,
    int MapperCounter,
    long FreeListLength,
    IReadOnlyList<SliceReport> SlicesNotFree);
