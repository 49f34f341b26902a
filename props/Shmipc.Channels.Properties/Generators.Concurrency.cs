using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <content>Property 2: two mappings used from concurrent threads.</content>
public static partial class Generators
{
    /// <summary>
    /// Small regions (64 KiB – 1 MiB, slices 64 B – 4 KiB, at least 4 per list) so that allocators regularly find
    /// the lists exhausted and must wait for the other side to recycle. No shrinker: runs are not deterministic.
    /// </summary>
    public static Arbitrary<ConcurrentScenario> ConcurrentScenarios() =>
        Arb.From(
            from region in RegionSpecs(minSlice: 64, maxSlice: 4096, minLength: 64 * 1024, maxLength: 1 << 20, minSlicesPerList: 4)
            from messages in Gen.Choose(1, 1500)
            from chains in Gen.Elements(0, 10, 30, 60)
            from seed in Seeds
            select new ConcurrentScenario(region, messages, chains, seed));
}
