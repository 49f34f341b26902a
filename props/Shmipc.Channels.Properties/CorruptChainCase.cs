namespace Shmipc.Channels.Properties;

/// <summary>A valid chain whose slice #<see cref="Index"/> (mod length) gets <see cref="Field"/> changed.</summary>
public sealed record CorruptChainCase(ChainCase Chain, ChainField Field, int Index, CorruptionMode Mode, uint Operand)
{
    public override string ToString() => $"{Chain}; slice #{Index} {Field} := {Mode}({Operand})";
}
