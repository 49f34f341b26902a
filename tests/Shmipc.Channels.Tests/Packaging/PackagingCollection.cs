using Xunit;

namespace Shmipc.Channels.Tests.Packaging;

/// <summary>
/// The packaging test runs alone, after the parallel tests: it packs, restores and builds a project, which would
/// otherwise compete for the cores with the timing-sensitive cross-process tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackagingCollection
{
    public const string Name = "Packaging";
}
