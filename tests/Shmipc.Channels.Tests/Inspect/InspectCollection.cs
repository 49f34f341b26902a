using Xunit;

namespace Shmipc.Channels.Tests.Inspect;

/// <summary>
/// The inspector tests run alone: several inspect this test process by pid, and every shmipc object other tests have
/// open at that moment would be part of the report.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InspectCollection
{
    public const string Name = "Inspect";
}
