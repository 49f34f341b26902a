namespace Shmipc.Channels.Properties;

/// <summary>
/// A queue capacity, header layout, starting head = tail index (to cross 2^31, 2^32 and beyond) and a sequence
/// of put/pop runs. <see cref="Salt"/> varies the element values between cases.
/// </summary>
public sealed record QueueScenario(int Capacity, bool Arm64Layout, long StartIndex, uint Salt, QueueOp[] Ops)
{
    public override string ToString() =>
        $"cap {Capacity}, {(Arm64Layout ? "arm64" : "amd64")} layout, start {StartIndex}, salt {Salt}: {string.Join(" ", Ops)}";
}
