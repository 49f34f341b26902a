using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <content>Hostile input for a real session: frames, queue elements and slice chains.</content>
public static partial class Generators
{
    /// <summary>Mostly hostile, a fifth well-formed, sizes from one byte to eight 1 KiB slices.</summary>
    public static Arbitrary<SessionInputCase> SessionInputs() => Arb.From(
        from kind in Gen.Frequency(
            (3, Gen.Constant(SessionInputKind.FrameBytes)),
            (2, Gen.Constant(SessionInputKind.ValidElement)),
            (1, Gen.Constant(SessionInputKind.OutOfRangeElement)),
            (3, Gen.Constant(SessionInputKind.MutatedChain)),
            (1, Gen.Constant(SessionInputKind.LoopingChain)),
            (1, Gen.Constant(SessionInputKind.UnknownStream)))
        from frame in FrameBytes().Generator.Select(c => c.Bytes)
        from size in Gen.Frequency((2, Gen.Choose(1, 1024)), (2, Gen.Choose(1025, 8 * 1024)))
        from offset in UInt32s
        from field in Gen.Choose(0, 3)
        from value in UInt32s
        select new SessionInputCase(kind, frame, kind == SessionInputKind.LoopingChain ? Math.Max(size, 1025) : size, offset, field, value));
}
