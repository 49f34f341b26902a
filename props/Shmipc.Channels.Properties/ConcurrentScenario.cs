namespace Shmipc.Channels.Properties;

/// <summary>
/// A small region shared by two mappings and, per direction, <see cref="MessagesPerDirection"/> messages of
/// which about <see cref="ChainPercent"/>% are multi-slice chains; sizes come from <see cref="Seed"/>.
/// </summary>
public sealed record ConcurrentScenario(RegionSpec Region, int MessagesPerDirection, int ChainPercent, int Seed)
{
    public override string ToString() => $"{Region}; {MessagesPerDirection} messages each way, {ChainPercent}% chains, seed {Seed}";
}
