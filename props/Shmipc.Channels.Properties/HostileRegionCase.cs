namespace Shmipc.Channels.Properties;

/// <summary>
/// A hostile buffer-region image of exactly <see cref="Length"/> bytes. <see cref="Seed"/> drives the random
/// bytes; for <see cref="HostileKind.CorruptedField"/>, <see cref="Region"/> is laid out first and then
/// <see cref="Field"/> of list/slice <see cref="Target"/> gets a value derived by <see cref="Mode"/> from <see cref="Operand"/>.
/// </summary>
public sealed record HostileRegionCase(HostileKind Kind, int Length, int Seed, RegionSpec? Region, RegionField Field, int Target, CorruptionMode Mode, uint Operand)
{
    public override string ToString() => Kind switch
    {
        HostileKind.CorruptedField => $"{Region} with {Field} of #{Target} := {Mode}({Operand}), seed {Seed}",
        _ => $"{Kind}, {Length} bytes, seed {Seed}",
    };
}
