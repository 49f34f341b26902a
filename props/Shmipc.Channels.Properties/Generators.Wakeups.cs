using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <content>Property 4: working-flag runs.</content>
public static partial class Generators
{
    /// <summary>Small capacities so the producer often finds the queue full; no shrinker (each try is a threaded run).</summary>
    public static Arbitrary<WakeupScenario> WakeupScenarios() =>
        Arb.From(
            from elements in Gen.Frequency((1, Gen.Choose(1, 8)), (4, Gen.Choose(1, 1000)))
            from capacity in Gen.Frequency((2, Gen.Choose(1, 2)), (3, Gen.Choose(1, 16)))
            from arm64 in Gen.Elements(false, true)
            from yields in Gen.Elements(false, true)
            select new WakeupScenario(elements, capacity, arm64, yields));
}
