namespace Shmipc.Channels.Properties;

/// <summary>A region configuration and a sequence of buffer-manager operations to run against the model.</summary>
public sealed record BufferScenario(RegionSpec Region, BufferOp[] Ops)
{
    public override string ToString() => $"{Region}; {Ops.Length} ops: {string.Join(" ", Ops)}";
}
