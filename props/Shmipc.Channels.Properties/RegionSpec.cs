namespace Shmipc.Channels.Properties;

/// <summary>A generated buffer-region configuration: mapping length and 1..n size classes whose percents add to 100.</summary>
public sealed record RegionSpec(long Length, SizeClassSpec[] Classes)
{
    /// <summary>The classes as <see cref="Memory.BufferManager.Create"/> takes them (in generated order, unsorted).</summary>
    internal (uint SliceSize, uint Percent)[] ToCreateArgument() =>
        Classes.Select(c => ((uint)c.SliceSize, (uint)c.Percent)).ToArray();

    /// <summary>
    /// The list layout of docs/PROTOCOL.md §4.5, computed here from the formula: classes ascending by size,
    /// <c>regionCap = length − 36·k − 8</c>, <c>n = (u32)(regionCap·percent/100) / (size+20)</c>, lists contiguous from 8.
    /// Null when some class gets 0 slices (Create must refuse the configuration).
    /// </summary>
    internal ExpectedList[]? ComputeLists()
    {
        SizeClassSpec[] sorted = Classes.OrderBy(c => c.SliceSize).ToArray();
        ulong regionCap = (ulong)(Length - (36L * sorted.Length) - 8);
        var lists = new ExpectedList[sorted.Length];
        ulong offset = 8;
        for (int i = 0; i < sorted.Length; i++)
        {
            uint size = (uint)sorted[i].SliceSize;
            uint n = unchecked((uint)(regionCap * (ulong)sorted[i].Percent / 100)) / (size + 20);
            if (n == 0 || offset + 36 + ((ulong)n * (size + 20)) > (ulong)Length)
            {
                return null;
            }

            lists[i] = new ExpectedList(i, (uint)offset, n, size);
            offset = lists[i].EndOffset;
        }

        return lists;
    }

    /// <summary>Bytes used by all lists after the 8-byte manager header.</summary>
    internal static uint UsedLength(ExpectedList[] lists) => (uint)(lists[^1].EndOffset - 8);

    public override string ToString() => $"region {Length} B [{string.Join(", ", Classes)}]";
}
