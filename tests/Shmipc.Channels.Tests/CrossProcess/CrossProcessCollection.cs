using Xunit;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// All cross-process tests share one <see cref="CrossProcessFixture"/> (peers are started once) and run alone: the
/// crash test measures a 1 s bound, which other test classes competing for the two cores could distort.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CrossProcessCollection : ICollectionFixture<CrossProcessFixture>
{
    public const string Name = "CrossProcess";
}
