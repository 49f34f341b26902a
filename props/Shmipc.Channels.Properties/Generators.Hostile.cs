using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <content>Property 5: hostile region and queue images.</content>
public static partial class Generators
{
    public static Arbitrary<HostileRegionCase> HostileRegionCases() =>
        Arb.From(Gen.Frequency(
            (1, from length in ImageLengths from seed in Seeds select new HostileRegionCase(HostileKind.RandomBytes, length, seed, null, default, 0, default, 0)),
            (2, from length in ImageLengths from seed in Seeds select new HostileRegionCase(HostileKind.PlausibleHeaders, length, seed, null, default, 0, default, 0)),
            (4, from region in RegionSpecs(minSlice: 4, maxSlice: 2048, minLength: 1024, maxLength: 64 * 1024, minSlicesPerList: 1)
                from seed in Seeds
                from field in Gen.Elements(Enum.GetValues<RegionField>())
                from target in Gen.Choose(0, 1 << 16)
                from mode in Gen.Elements(Enum.GetValues<CorruptionMode>())
                from operand in UInt32s
                select new HostileRegionCase(HostileKind.CorruptedField, (int)region.Length, seed, region, field, target, mode, operand))));

    public static Arbitrary<HostileQueueCase> HostileQueueCases() =>
        Arb.From(Gen.Frequency(
            (1, from length in ImageLengths from seed in Seeds from layout in Gen.Choose(0, 2) from creator in Gen.Elements(false, true)
                select new HostileQueueCase(HostileKind.RandomBytes, length, seed, 0, layout, creator, default, false, default, 0)),
            (2, from capacity in Gen.Choose(1, 300) from seed in Seeds from layout in Gen.Choose(0, 2) from creator in Gen.Elements(false, true)
                from lengthDelta in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(-30, 30)))
                select new HostileQueueCase(HostileKind.PlausibleHeaders, Math.Max(0, (int)IoQueuePairSize(capacity) + lengthDelta), seed, capacity, layout, creator, default, false, default, 0)),
            (4, from capacity in Gen.Choose(1, 300) from seed in Seeds from layout in Gen.Choose(0, 2) from creator in Gen.Elements(false, true)
                from field in Gen.Elements(Enum.GetValues<QueueField>())
                from second in Gen.Elements(false, true)
                from mode in Gen.Elements(Enum.GetValues<CorruptionMode>())
                from operand in Int64s
                select new HostileQueueCase(HostileKind.CorruptedField, (int)IoQueuePairSize(capacity), seed, capacity, layout, creator, field, second, mode, operand))));

    private static Gen<int> ImageLengths { get; } = Gen.Frequency(
        (1, Gen.Choose(0, 64)),
        (2, Gen.Choose(0, 4096)),
        (2, Gen.Choose(0, 64 * 1024)));

    private static Gen<long> Int64s { get; } = Gen.Frequency(
        (3, from hi in UInt32s from lo in UInt32s select (long)(((ulong)hi << 32) | lo)),
        (2, Gen.Choose(-1000, 1000).Select(x => (long)x)));

    private static long IoQueuePairSize(int capacity) => 2 * (24 + (12L * capacity));
}
