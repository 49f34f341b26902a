using Xunit;

namespace Shmipc.Channels.Tests.Metrics;

/// <summary>The meter tests run alone: the static <c>Shmipc</c> meter is process-wide, so other tests' sessions would report into it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics";
}
