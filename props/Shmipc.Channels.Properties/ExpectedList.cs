namespace Shmipc.Channels.Properties;

/// <summary>
/// Where docs/PROTOCOL.md §4.5 says a buffer list must be, computed independently of the code under test, plus the
/// model's running state of that list (free slices and the two per-process counters).
/// </summary>
internal sealed class ExpectedList
{
    public ExpectedList(int index, uint listOffset, uint sliceCount, uint capPerBuffer)
    {
        Index = index;
        ListOffset = listOffset;
        SliceCount = sliceCount;
        CapPerBuffer = capPerBuffer;
        Free = (int)sliceCount;
    }

    public int Index { get; }

    public uint ListOffset { get; }

    public uint RegionOffset => ListOffset + 36;

    public uint SliceCount { get; }

    public uint CapPerBuffer { get; }

    public uint Stride => CapPerBuffer + 20;

    public ulong EndOffset => RegionOffset + ((ulong)SliceCount * Stride);

    /// <summary>Model: free slices (the header's size field).</summary>
    public int Free { get; set; }

    /// <summary>Model: pops minus pushes by the creating manager (counter at +20).</summary>
    public int CreatorCounter { get; set; }

    /// <summary>Model: pops minus pushes by mapping managers (counter at +24).</summary>
    public int MapperCounter { get; set; }

    public bool IsSliceHeader(uint offset) =>
        offset >= RegionOffset && offset - RegionOffset < (ulong)SliceCount * Stride && (offset - RegionOffset) % Stride == 0;

    public override string ToString() => $"list {Index} @{ListOffset}: {SliceCount} x {CapPerBuffer}, free {Free}";
}
