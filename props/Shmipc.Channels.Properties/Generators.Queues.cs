using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <content>Property 3: IO-queue scenarios.</content>
public static partial class Generators
{
    public static Arbitrary<QueueScenario> QueueScenarios() =>
        Arb.From(
            from capacity in Gen.Frequency((2, Gen.Choose(1, 4)), (3, Gen.Choose(1, 64)))
            from arm64 in Gen.Elements(false, true)
            from start in StartIndexes(capacity)
            from salt in UInt32s
            from ops in Gen.Choose(1, 60).SelectMany(n => Gen.ArrayOf(QueueOps(capacity), n))
            select new QueueScenario(capacity, arm64, start, salt, ops),
            s => ShrinkArray(s.Ops).Select(ops => s with { Ops = ops }));

    /// <summary>head = tail at 0, or just below 2^31, 2^32, 2^40 or 2^62 so the indexes cross those boundaries.</summary>
    private static Gen<long> StartIndexes(int capacity) => Gen.Frequency(
        (4, Gen.Constant(0L)),
        (1, Gen.Choose(1, 1000).Select(x => (long)x)),
        (1, Gen.Choose(0, 4 * capacity).Select(x => (1L << 31) - x)),
        (1, Gen.Choose(0, 4 * capacity).Select(x => (1L << 32) - x)),
        (1, Gen.Choose(0, 4 * capacity).Select(x => (1L << 40) - x)),
        (1, Gen.Choose(0, 4 * capacity).Select(x => (1L << 62) - x)));

    /// <summary>Runs long enough to fill and drain the queue, so most scenarios hit full, empty and wrap-around.</summary>
    private static Gen<QueueOp> QueueOps(int capacity)
    {
        Gen<int> counts = Gen.Frequency((3, Gen.Choose(1, 3)), (2, Gen.Choose(1, (2 * capacity) + 2)));
        Gen<bool> reverse = Gen.Elements(false, true);
        return Gen.Frequency(
            (10, from n in counts from r in reverse select new QueueOp(QueueOpKind.Put, n, r)),
            (10, from n in counts from r in reverse select new QueueOp(QueueOpKind.Pop, n, r)),
            (1, Gen.Constant(new QueueOp(QueueOpKind.Remap, 1, false))));
    }
}
