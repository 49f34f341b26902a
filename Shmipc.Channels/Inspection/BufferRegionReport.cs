namespace Shmipc.Channels.Inspection;

/// <summary>A buffer region: its manager header and every list.</summary>
/// <param name="Source">The path it was opened by.</param>
/// <param name="Name">The object's own name.</param>
/// <param name="Length">Its size in bytes.</param>
/// <param name="Issues">Inconsistencies found.</param>
/// <param name="Notes">Checks skipped because a list kept changing while it was read.</param>
/// <param name="ListCount">The manager header's list count.</param>
/// <param name="UsedLength">The manager header's usedLength.</param>
/// <param name="Lists">The lists that could be read (a list whose header lies outside the region ends the walk).</param>
internal sealed record BufferRegionReport(
    string Source,
    string Name,
    long Length,
    IReadOnlyList<string> Issues,
    IReadOnlyList<string> Notes,
    ushort ListCount,
    uint UsedLength,
    IReadOnlyList<BufferListReport> Lists)
    : RegionReport(Source, Name, Length, Issues, Notes)
{
    /// <inheritdoc/>
    public override RegionKind Kind => RegionKind.Buffer;

    /// <summary>Slices in all lists.</summary>
    public long SlicesTotal => Lists.Sum(l => (long)l.Capacity);

    /// <summary>Slices on the free lists (as walked).</summary>
    public long SlicesFree => Lists.Sum(l => l.FreeListLength);

    /// <summary>Slices not on a free list.</summary>
    public long SlicesNotFree => Lists.Sum(l => (long)l.SlicesNotFree.Count);

    /// <summary>Σ cap·slice size: shmipc's CapacityOfShareMemoryInBytes.</summary>
    public long CapacityBytes => Lists.Sum(l => (long)l.Capacity * l.SliceSize);

    /// <summary>Σ slices not free · slice size: shmipc's AllInUsedShareMemoryInBytes.</summary>
    public long InUseBytes => Lists.Sum(l => (long)l.SlicesNotFree.Count * l.SliceSize);
}
