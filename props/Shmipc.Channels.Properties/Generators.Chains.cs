using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <content>Property 6: chains and chain corruptions.</content>
public static partial class Generators
{
    public static Arbitrary<ChainCase> ChainCases() => Arb.From(ChainCaseGen);

    public static Arbitrary<CorruptChainCase> CorruptChainCases() =>
        Arb.From(
            from chain in ChainCaseGen
            from field in Gen.Elements(Enum.GetValues<ChainField>())
            from index in Gen.Choose(0, 1 << 16)
            from mode in Gen.Elements(Enum.GetValues<CorruptionMode>())
            from operand in UInt32s
            select new CorruptChainCase(chain, field, index, mode, operand));

    /// <summary>Regions of 16–256 KiB with slices of 4 B – 2 KiB (at least 2 per list, so one can always be allocated).</summary>
    private static Gen<ChainCase> ChainCaseGen { get; } =
        from region in RegionSpecs(minSlice: 4, maxSlice: 2048, minLength: 16 * 1024, maxLength: 256 * 1024, minSlicesPerList: 2)
        from seed in Seeds
        from count in Gen.Frequency((1, Gen.Constant(1)), (4, Gen.Choose(1, 12)), (1, Gen.Choose(13, 64)))
        from commit in Gen.Elements(false, true)
        select new ChainCase(region, seed, count, commit);
}
