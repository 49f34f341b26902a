using System.CommandLine;
using System.Globalization;
using Shmipc.Channels;
using Shmipc.Channels.Inspection;

namespace Shmipc.Inspect;

/// <summary>shmipc-inspect's command line: parses it, inspects the targets (once, or repeatedly with --watch) and prints.</summary>
internal static class InspectCommand
{
    /// <summary>The tool's entry point, callable in-process (tests pass their own writers).</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Where reports go.</param>
    /// <param name="error">Where errors and usage go.</param>
    /// <param name="cancellationToken">Ends --watch after the current pass.</param>
    /// <returns>One of <see cref="ExitCodes"/>.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var target = new Argument<string[]>("target")
        {
            Description = "Process ids, /dev/shm files, or /proc/<pid>/fd/<n> memfds (a session's buffer and queue together show which slices are queued).",
            Arity = ArgumentArity.OneOrMore,
        };
        var kind = new Option<RegionKind?>("--kind")
        {
            Description = "Read a path as this kind instead of deciding from its name and contents.",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON (one document per pass) instead of text." };
        var watch = new Option<bool>("--watch") { Description = "Inspect again every --interval-ms until Ctrl-C." };
        var interval = new Option<int>("--interval-ms")
        {
            Description = "Milliseconds between passes with --watch.",
            DefaultValueFactory = _ => 1000,
        };
        var iterations = new Option<int?>("--iterations") { Description = "Stop --watch after this many passes." };
        var limit = new Option<int>("--limit")
        {
            Description = "Most slices and queue elements listed per list or queue in text (JSON lists all).",
            DefaultValueFactory = _ => 16,
        };
        var root = new RootCommand("Maps shmipc shared memory read-only and reports its free lists, IO queues, slices in use and inconsistencies.")
        {
            target, kind, json, watch, interval, iterations, limit,
        };

        ParseResult parsed = root.Parse(args);
        if (args.Any(a => a is "-h" or "--help" or "-?" or "--version"))
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
        }

        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors)
            {
                error.WriteLine(e.Message);
            }

            error.WriteLine("Usage: shmipc-inspect <pid | path> [--kind buffer|queue] [--json] [--watch [--interval-ms n] [--iterations n]] [--limit n]");
            return ExitCodes.Usage;
        }

        int passes = parsed.GetValue(watch) ? parsed.GetValue(iterations) ?? int.MaxValue : 1;
        int intervalMs = parsed.GetValue(interval);
        string[] targets = parsed.GetRequiredValue(target);
        if (targets.FirstOrDefault(t => t.StartsWith('-')) is { } unknown)
        {
            error.WriteLine($"Unrecognized option '{unknown}'.");
            return ExitCodes.Usage;
        }

        if (passes < 1 || intervalMs < 0)
        {
            error.WriteLine("--iterations must be at least 1 and --interval-ms at least 0.");
            return ExitCodes.Usage;
        }

        var options = new InspectOptions(targets, parsed.GetValue(kind), parsed.GetValue(json), parsed.GetValue(limit));
        int exit = ExitCodes.Failed;
        for (int pass = 0; pass < passes && !cancellationToken.IsCancellationRequested; pass++)
        {
            if (pass > 0 && cancellationToken.WaitHandle.WaitOne(intervalMs))
            {
                break;
            }

            exit = InspectOnce(options, output, error, clear: passes > 1 && !options.Json && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
            output.Flush();
        }

        return exit;
    }

    private static int InspectOnce(InspectOptions options, TextWriter output, TextWriter error, bool clear)
    {
        List<RegionTarget> targets;
        try
        {
            targets = Resolve(options);
        }
        catch (ShmipcException e)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Failed;
        }

        InspectionReport report = targets.Count == 0
            ? new InspectionReport([], [$"{string.Join(' ', options.Targets)}: no shmipc region found (no memfd named shmipc… and no /dev/shm …_buffer or …_queue_<n> open or mapped)"])
            : RegionInspector.Inspect(targets);
        if (options.Json)
        {
            JsonReportWriter.Write(report, DateTimeOffset.UtcNow, output);
        }
        else
        {
            if (clear)
            {
                output.Write("\u001b[H\u001b[2J");
            }

            TextReportWriter.Write(report, DateTimeOffset.UtcNow, options.Limit, output);
        }

        foreach (string e in report.Errors)
        {
            error.WriteLine(e);
        }

        return report.Regions.Count == 0 ? ExitCodes.Failed
            : report.HasIssues ? ExitCodes.Inconsistent
            : ExitCodes.Consistent;
    }

    private static List<RegionTarget> Resolve(InspectOptions options)
    {
        var targets = new List<RegionTarget>();
        foreach (string target in options.Targets)
        {
            if (int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                targets.AddRange(RegionLocator.FindByProcess(pid));
            }
            else if (File.Exists(target))
            {
                targets.Add(RegionLocator.ForPath(target, options.Kind));
            }
            else
            {
                throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"{target}: no such file (give a process id, a /dev/shm file or a /proc/<pid>/fd/<n> path).");
            }
        }

        return targets;
    }
}
