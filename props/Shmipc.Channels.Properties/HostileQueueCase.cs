namespace Shmipc.Channels.Properties;

/// <summary>
/// A hostile queue-pair image of exactly <see cref="Length"/> bytes, mapped with layout <see cref="LayoutChoice"/>
/// (0 = default for this CPU, 1 = amd64, 2 = arm64). For <see cref="HostileKind.CorruptedField"/> a valid pair of
/// <see cref="Capacity"/> is created and <see cref="Field"/> of one half is replaced (<see cref="Mode"/>, <see cref="Operand"/>).
/// </summary>
public sealed record HostileQueueCase(
    HostileKind Kind,
    int Length,
    int Seed,
    int Capacity,
    int LayoutChoice,
    bool IsCreator,
    QueueField Field,
    bool SecondHalf,
    CorruptionMode Mode,
    long Operand)
{
    public override string ToString() => Kind switch
    {
        HostileKind.CorruptedField => $"pair cap {Capacity}, layout {LayoutChoice}, creator {IsCreator}: {(SecondHalf ? "second" : "first")} half {Field} := {Mode}({Operand}), seed {Seed}",
        _ => $"{Kind}, {Length} bytes, layout {LayoutChoice}, creator {IsCreator}, seed {Seed}",
    };
}
