using System.Globalization;
using SharpFuzz;

namespace Shmipc.Fuzz;

/// <summary>The command line of shmipc-fuzz: <c>&lt;target&gt; [--libfuzzer | --afl | --replay ... | --seed-corpus DIR | --smoke N]</c>.</summary>
public static class FuzzCommand
{
    /// <summary>Exit code of a run without findings.</summary>
    public const int Ok = 0;

    /// <summary>Exit code when replay or smoke found an input that failed.</summary>
    public const int Findings = 1;

    /// <summary>Exit code for a bad command line.</summary>
    public const int Usage = 2;

    // libfuzzer-dotnet sets this before it starts the target; it passes only one argument (the target name), so the
    // engine is chosen from the environment rather than from a flag.
    private const string LibFuzzerShmVariable = "__LIBFUZZER_SHM_ID";

    /// <summary>Runs the command.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <returns>The exit code.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        FuzzTarget? target = args.Length > 0 ? FuzzTargets.Find(args[0]) : null;
        if (target is null)
        {
            return PrintUsage(error, args.Length > 0 ? $"unknown target '{args[0]}'" : "no target given");
        }

        string mode = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable(LibFuzzerShmVariable) is null ? "--afl" : "--libfuzzer";
        string[] rest = args.Length > 2 ? args[2..] : [];
        switch (mode)
        {
            case "--afl":
                // Out of process: a StackOverflowException or a crash of the runtime kills only the child, and AFL
                // still sees the input as a crash.
                Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    target.Run(copy.GetBuffer().AsSpan(0, (int)copy.Length));
                });
                return Ok;
            case "--libfuzzer":
                Fuzzer.LibFuzzer.Run(target.Run);
                return Ok;
            case "--replay" when rest.Length > 0:
                return ReplayRunner.Run(target, rest, output) == 0 ? Ok : Findings;
            case "--seed-corpus" when rest.Length == 1:
                return CopySeeds(target, rest[0], output, error);
            case "--smoke" when rest.Length is 1 or 3:
                return Smoke(target, rest, output, error);
            default:
                return PrintUsage(error, $"bad arguments: {string.Join(' ', args)}");
        }
    }

    private static int CopySeeds(FuzzTarget target, string corpus, TextWriter output, TextWriter error)
    {
        string? vectors = SeedCorpus.FindVectorsDirectory();
        if (vectors is null)
        {
            error.WriteLine("tests/vectors not found: run from inside the repository");
            return Usage;
        }

        int count = SeedCorpus.CopyTo(target, vectors, corpus);
        output.WriteLine($"{target.Name}: copied {count} seed file(s) from {vectors} to {corpus}");
        return Ok;
    }

    private static int Smoke(FuzzTarget target, string[] rest, TextWriter output, TextWriter error)
    {
        string? vectors = SeedCorpus.FindVectorsDirectory();
        if (vectors is null)
        {
            error.WriteLine("tests/vectors not found: run from inside the repository");
            return Usage;
        }

        if (!int.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            || (rest.Length == 3 && (rest[1] != "--seed" || !int.TryParse(rest[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))))
        {
            return PrintUsage(error, "usage: --smoke <count> [--seed <n>]");
        }

        int seed = rest.Length == 3 ? int.Parse(rest[2], CultureInfo.InvariantCulture) : 1;
        SmokeResult result = SmokeRun.Run(target, vectors, count, seed);
        foreach ((byte[] input, Exception finding) in result.Findings)
        {
            output.WriteLine($"FAIL input {Convert.ToHexString(input)}: {finding}");
        }

        output.WriteLine($"{target.Name}: {result.Runs} run(s) ({result.Seeds} seeds + {count} mutations, seed {seed}) in {result.Elapsed.TotalSeconds:F2} s, {result.Findings.Count} failed");
        return result.Findings.Count == 0 ? Ok : Findings;
    }

    private static int PrintUsage(TextWriter error, string problem)
    {
        error.WriteLine(problem);
        error.WriteLine("usage: shmipc-fuzz <target> [--afl | --libfuzzer | --replay <file-or-dir>... | --seed-corpus <dir> | --smoke <count> [--seed <n>]]");
        error.WriteLine("  no mode: run under a fuzzer (libFuzzer when started by libfuzzer-dotnet, otherwise AFL: one input on stdin)");
        error.WriteLine("targets:");
        foreach (FuzzTarget t in FuzzTargets.All)
        {
            error.WriteLine($"  {t.Name,-10} {t.Description}");
        }

        return Usage;
    }
}
