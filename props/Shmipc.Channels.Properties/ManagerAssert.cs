using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

/// <summary>Comparisons between two <see cref="BufferManager"/> views and against the §4.5 layout.</summary>
internal static unsafe class ManagerAssert
{
    /// <summary>Two managers over the same region (possibly through different mappings) must agree on every list.</summary>
    public static void SameLists(BufferManager a, BufferManager b, string context)
    {
        Equal(a.ListCount, b.ListCount, context, "ListCount");
        Equal(a.UsedLength, b.UsedLength, context, "UsedLength");
        Equal(a.TotalSliceCount, b.TotalSliceCount, context, "TotalSliceCount");
        Equal(a.MaxSliceSize, b.MaxSliceSize, context, "MaxSliceSize");
        Equal(a.CapacityInBytes, b.CapacityInBytes, context, "CapacityInBytes");
        Equal(a.InUseBytes, b.InUseBytes, context, "InUseBytes");
        for (int i = 0; i < a.ListCount; i++)
        {
            BufferList x = a.GetList(i);
            BufferList y = b.GetList(i);
            string where = $"{context}, list {i}";
            Equal(x.ListOffset, y.ListOffset, where, "ListOffset");
            Equal(x.RegionOffset, y.RegionOffset, where, "RegionOffset");
            Equal(x.SliceCount, y.SliceCount, where, "SliceCount");
            Equal(x.CapPerBuffer, y.CapPerBuffer, where, "CapPerBuffer");
            Equal(x.Stride, y.Stride, where, "Stride");
            Equal(x.EndOffset, y.EndOffset, where, "EndOffset");
            Equal(x.FreeCount, y.FreeCount, where, "FreeCount");
            Equal(x.Head, y.Head, where, "Head");
            Equal(x.Tail, y.Tail, where, "Tail");
        }
    }

    /// <summary>A freshly created region: lists where §4.5 puts them, fully free, header bytes as specified.</summary>
    public static void FreshLayout(BufferManager manager, byte* baseAddress, ExpectedList[] expected)
    {
        Equal(manager.ListCount, expected.Length, "fresh region", "ListCount");
        Equal(manager.UsedLength, RegionSpec.UsedLength(expected), "fresh region", "UsedLength");
        Equal(*(ushort*)baseAddress, (ushort)expected.Length, "fresh region", "raw listCount @0");
        Equal(*(ushort*)(baseAddress + 2), (ushort)0, "fresh region", "raw reserved @2");
        Equal(*(uint*)(baseAddress + 4), RegionSpec.UsedLength(expected), "fresh region", "raw usedLength @4");
        for (int i = 0; i < expected.Length; i++)
        {
            BufferList list = manager.GetList(i);
            ExpectedList e = expected[i];
            string where = $"fresh region, list {i}";
            Equal(list.ListOffset, e.ListOffset, where, "ListOffset");
            Equal(list.SliceCount, e.SliceCount, where, "SliceCount");
            Equal(list.CapPerBuffer, e.CapPerBuffer, where, "CapPerBuffer");
            Equal(list.FreeCount, (int)e.SliceCount, where, "FreeCount");
            Equal(list.Head, 0u, where, "Head");
            Equal(list.Tail, (e.SliceCount - 1) * e.Stride, where, "Tail");
            Equal(list.CreatorCounter, 0, where, "creator counter");
            Equal(list.MapperCounter, 0, where, "mapper counter");
            byte* header = baseAddress + e.ListOffset;
            Equal(*(uint*)(header + 4), e.SliceCount, where, "raw cap @+4");
            Equal(*(uint*)(header + 16), e.CapPerBuffer, where, "raw capPerBuffer @+16");
        }
    }

    private static void Equal<T>(T actual, T expected, string context, string what)
        where T : IEquatable<T>
    {
        if (!actual.Equals(expected))
        {
            throw new PropertyFailure($"{context}: {what} is {actual}, expected {expected}");
        }
    }
}
