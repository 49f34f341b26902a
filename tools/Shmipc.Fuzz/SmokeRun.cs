using System.Diagnostics;

namespace Shmipc.Fuzz;

/// <summary>A fuzzer-free run: the seed files, then a fixed number of deterministic mutations of them.</summary>
public static class SmokeRun
{
    /// <summary>Runs <paramref name="target"/> on its seeds and <paramref name="mutations"/> mutations of them.</summary>
    /// <param name="target">The target.</param>
    /// <param name="vectorsDirectory">The <c>tests/vectors</c> folder.</param>
    /// <param name="mutations">How many mutated inputs to run.</param>
    /// <param name="seed">Seed of the <see cref="Random"/> that picks the mutations: the same seed gives the same inputs.</param>
    public static SmokeResult Run(FuzzTarget target, string vectorsDirectory, int mutations, int seed)
    {
        ArgumentNullException.ThrowIfNull(target);
        var findings = new List<(byte[], Exception)>();
        var seeds = SeedCorpus.Files(target, vectorsDirectory).Select(File.ReadAllBytes).ToList();
        long started = Stopwatch.GetTimestamp();
        foreach (byte[] input in seeds)
        {
            Record(target, input, findings);
        }

#pragma warning disable CA5394 // Not security: a reproducible stream of test inputs.
        var random = new Random(seed);
#pragma warning restore CA5394
        for (int i = 0; i < mutations; i++)
        {
            Record(target, Mutator.Mutate(seeds, random), findings);
        }

        return new SmokeResult(seeds.Count + mutations, seeds.Count, Stopwatch.GetElapsedTime(started), findings);
    }

    private static void Record(FuzzTarget target, byte[] input, List<(byte[], Exception)> findings)
    {
        Exception? finding = target.Check(input);
        if (finding is not null)
        {
            findings.Add((input, finding));
        }
    }
}
