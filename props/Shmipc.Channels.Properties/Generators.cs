using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <summary>
/// The FsCheck arbitraries of the suite (registered with <c>[Property(Arbitrary = new[] { typeof(Generators) })]</c>).
/// </summary>
/// <remarks>
/// Generators are biased towards the edges that matter: exhausted lists (small regions, large chains), full and
/// empty queues, index wrap-around, header fields one off their valid value. Where a case carries a seed, the
/// bulk bytes are derived from it with <see cref="Random"/> inside the property: cheap for 64 KiB inputs and still
/// reproducible from FsCheck's replay seed.
/// </remarks>
public static partial class Generators
{
    private static readonly Gen<int> Seeds = Gen.Choose(0, int.MaxValue);

    /// <summary>Any u32, with the special values that break naive bounds checks overrepresented.</summary>
    internal static Gen<uint> UInt32s { get; } = Gen.Frequency(
        (6, from hi in Gen.Choose(0, 0xFFFF) from lo in Gen.Choose(0, 0xFFFF) select (uint)((hi << 16) | lo)),
        (2, Gen.Choose(0, 256).Select(x => (uint)x)),
        (2, Gen.Elements(0u, 1u, 4u, 20u, 36u, 0x7FFF_FFFFu, 0x8000_0000u, 0xFFFF_FFECu, 0xFFFF_FFFFu)));

    // ---- Property 1: buffer manager against the model ----

    public static Arbitrary<BufferScenario> BufferScenarios() =>
        Arb.From(
            from region in RegionSpecs(minSlice: 64, maxSlice: 16 * 1024, minLength: 1 << 20, maxLength: 4 << 20, minSlicesPerList: 0)
            from ops in Gen.Choose(1, 250).SelectMany(n => Gen.ArrayOf(BufferOps(region), n))
            select new BufferScenario(region, ops),
            ShrinkBufferScenario);

    /// <summary>
    /// 1..3 distinct slice sizes (multiples of 4), percents that add up to 100, and a region length. With
    /// <paramref name="minSlicesPerList"/> &gt; 0 only layouts where every list gets at least that many slices.
    /// </summary>
    internal static Gen<RegionSpec> RegionSpecs(int minSlice, int maxSlice, int minLength, int maxLength, int minSlicesPerList)
    {
        Gen<int> anySize = Gen.Choose(minSlice / 4, maxSlice / 4).Select(x => x * 4);
        Gen<int> smallSize = Gen.Choose(minSlice / 4, Math.Max(minSlice, maxSlice / 16) / 4).Select(x => x * 4);
        Gen<int> sizes = Gen.Frequency((1, smallSize), (2, anySize));
        Gen<RegionSpec> specs =
            from count in Gen.Choose(1, 3)
            from sliceSizes in Gen.ArrayOf(sizes, count).Where(a => a.Distinct().Count() == a.Length)
            from percents in Percents(count)
            from length in Gen.Choose(minLength, maxLength)
            select new RegionSpec(length, sliceSizes.Zip(percents, (s, p) => new SizeClassSpec(s, p)).ToArray());
        return minSlicesPerList <= 0
            ? specs
            : specs.Where(r => r.ComputeLists() is { } lists && lists.All(l => l.SliceCount >= minSlicesPerList));
    }

    /// <summary>Cuts 1..99 into <paramref name="count"/> positive parts adding up to 100.</summary>
    internal static Gen<int[]> Percents(int count) => count switch
    {
        1 => Gen.Constant(new[] { 100 }),
        2 => Gen.Choose(1, 99).Select(a => new[] { a, 100 - a }),
        _ => from a in Gen.Choose(1, 98) from b in Gen.Choose(a + 1, 99) select new[] { a, b - a, 100 - b },
    };

    private static Gen<BufferOp> BufferOps(RegionSpec region)
    {
        int maxSlice = region.Classes.Max(c => c.SliceSize);
        Gen<int> singleSizes = Gen.Frequency(
            (8, Gen.Choose(0, maxSlice)),
            (1, Gen.Elements(0, maxSlice, maxSlice + 1)),
            (1, Gen.Choose(maxSlice + 1, 4 * maxSlice)));
        Gen<int> chainSizes = Gen.Frequency(
            (4, Gen.Choose(0, 4 * maxSlice)),
            (2, Gen.Choose(0, 64 * 1024)),
            (2, Gen.Choose((int)region.Length / 8, (int)region.Length)));
        Gen<int> spanLimits = Gen.Frequency((1, Gen.Choose(1, 8)), (3, Gen.Constant(64)), (1, Gen.Constant(512)), (1, Gen.Constant(4096)));
        Gen<int> picks = Gen.Choose(0, 1 << 20);
        Gen<bool> via = Gen.Elements(false, true);
        return Gen.Frequency(
            (30, from s in singleSizes from m in via select new BufferOp(BufferOpKind.Alloc, s, 0, m, 0)),
            (15, from s in chainSizes from l in spanLimits from m in via select new BufferOp(BufferOpKind.AllocChain, s, 0, m, l)),
            (30, from p in picks from s in picks from m in via select new BufferOp(BufferOpKind.Recycle, s, p, m, 0)),
            (15, from p in picks from s in Gen.Choose(0, int.MaxValue) from m in via select new BufferOp(BufferOpKind.Commit, s, p, m, 0)),
            (2, Gen.Constant(new BufferOp(BufferOpKind.Remap, 0, 0, false, 0))));
    }

    /// <summary>Shrinks by dropping halves, then single operations; the layout is kept.</summary>
    private static IEnumerable<BufferScenario> ShrinkBufferScenario(BufferScenario scenario) =>
        ShrinkArray(scenario.Ops).Select(ops => scenario with { Ops = ops });

    internal static IEnumerable<T[]> ShrinkArray<T>(T[] items)
    {
        if (items.Length <= 1)
        {
            yield break;
        }

        yield return items[..(items.Length / 2)];
        yield return items[(items.Length / 2)..];
        for (int i = items.Length - 1; i >= 0; i--)
        {
            yield return [.. items[..i], .. items[(i + 1)..]];
        }
    }
}
