namespace Shmipc.Channels.Properties;

/// <summary>
/// A chain of up to <see cref="SliceCount"/> slices in <see cref="Region"/>: built with TryAllocateChain +
/// CommitChain, or (<see cref="UseCommitChain"/> false) from single slices of random lists with random lengths
/// (empty ones included) linked with LinkChain. <see cref="Seed"/> drives sizes, lengths and data.
/// </summary>
public sealed record ChainCase(RegionSpec Region, int Seed, int SliceCount, bool UseCommitChain)
{
    public override string ToString() => $"{Region}; {(UseCommitChain ? "CommitChain" : "LinkChain")} of up to {SliceCount} slices, seed {Seed}";
}
