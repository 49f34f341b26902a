using Shmipc.Channels.Tests.TestSupport;
using Shmipc.Fuzz;
using Xunit;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>
/// The shmipc-fuzz targets without a fuzzer: each one over its seed corpus (the shmipc-go vectors) and a few thousand
/// deterministic mutations of it. Only success or a ShmipcException is allowed; anything else (an IndexOutOfRange, an
/// ArgumentOutOfRange, an overflow, or a target invariant such as a leaked fd) fails with the input in hex, ready
/// to save as a regression case.
/// </summary>
public class FuzzTargetReplayTests
{
    private const int Mutations = 3_000;

    public static TheoryData<string> Targets => new(FuzzTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedCorpus_ReplaysWithoutFindings(string name)
    {
        FuzzTarget target = FuzzTargets.Find(name)!;
        IReadOnlyList<string> seeds = SeedCorpus.Files(target, VectorFiles.VectorsDirectory);
        Assert.NotEmpty(seeds);

        using var output = new StringWriter();
        int failures = ReplayRunner.Run(target, seeds, output);

        Assert.True(failures == 0, output.ToString());
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeededMutations_OnlySucceedOrThrowShmipcException(string name)
    {
        FuzzTarget target = FuzzTargets.Find(name)!;

        // A fixed seed per target: the same inputs on every run, so a failure reproduces.
        SmokeResult result = SmokeRun.Run(target, VectorFiles.VectorsDirectory, Mutations, seed: 20260513);

        Assert.Equal(result.Seeds + Mutations, result.Runs);
        Assert.True(
            result.Findings.Count == 0,
            string.Join('\n', result.Findings.Take(5).Select(f => $"input {Convert.ToHexString(f.Input)}: {f.Finding}")));
    }

    [Fact]
    public void Harness_ReportsANonShmipcExceptionAsAFinding()
    {
        // The harness itself: an exception that is not a ShmipcException must come back as a finding, or a real
        // bug would pass as "rejected".
        var broken = new FuzzTarget("broken", "throws", static _ => throw new InvalidOperationException("planted"), []);

        Assert.IsType<InvalidOperationException>(broken.Check([1, 2, 3]));
        Assert.Null(FuzzTargets.Frame.Check([0, 0, 0, 8, 0x77, 0x58, 3, 1]));
        Assert.Null(FuzzTargets.Frame.Check([0, 0, 0, 8, 0x12, 0x34, 3, 1])); // bad magic: a ShmipcException, caught
    }
}
