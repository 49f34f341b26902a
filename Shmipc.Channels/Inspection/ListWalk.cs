using System.Collections;
using static Shmipc.Channels.Memory.BufferManagerLayout;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Inspection;

/// <summary>One buffer list while <see cref="RegionInspector"/> walks it: its geometry, header fields, and which slices the free-list walk reached.</summary>
internal sealed class ListWalk(int index, long listOffset, uint capacity, uint sliceSize, long stride)
{
    public int Index { get; } = index;

    public long ListOffset { get; } = listOffset;

    public long RegionOffset { get; } = listOffset + ListHeaderSize;

    public uint Capacity { get; } = capacity;

    public uint SliceSize { get; } = sliceSize;

    public long Stride { get; } = stride;

    public long End => RegionOffset + (Capacity * Stride);

    public BitArray Free { get; } = new((int)Math.Min(capacity, int.MaxValue));

    public int FreeCount { get; init; }

    public uint Head { get; init; }

    public uint Tail { get; init; }

    public int CreatorCounter { get; init; }

    public int MapperCounter { get; init; }

    public long FreeListLength { get; set; }

    public bool IsBoundary(uint relative) => relative < Capacity * Stride && relative % Stride == 0;

    public bool ContainsSlice(long offset) => offset >= RegionOffset && offset < End && (offset - RegionOffset) % Stride == 0;

    public BufferListReport ToReport(ReadOnlyRegion region, Dictionary<(int, long), string> labels, List<string> issues)
    {
        var notFree = new List<SliceReport>();
        int oversized = 0;
        for (long k = 0; k < Capacity; k++)
        {
            if (Free[(int)k])
            {
                continue;
            }

            long header = RegionOffset + (k * Stride);
            uint size = region.ReadUInt32(header + SliceSizeOffset);
            uint start = region.ReadUInt32(header + SliceStartOffset);
            byte flags = region.ReadByte(header + SliceFlagsOffset);
            uint? next = (flags & SliceFlagHasNext) != 0 ? region.ReadUInt32(header + SliceNextOffset) : null;
            labels.TryGetValue((Index, k), out string? label);
            notFree.Add(new SliceReport(Index, k, (uint)header, size, flags, next, label));
            if ((ulong)start + size > SliceSize && oversized++ == 0)
            {
                issues.Add(RegionInspector.Inv($"list {Index} (slice size {SliceSize}): slice {k} claims {size} bytes from {start}, beyond its capacity"));
            }
        }

        return new BufferListReport(
            Index, (uint)ListOffset, SliceSize, Capacity, FreeCount, Head, Tail, CreatorCounter, MapperCounter, FreeListLength, notFree);
    }
}
