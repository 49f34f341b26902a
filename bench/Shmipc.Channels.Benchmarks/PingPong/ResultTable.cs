using System.Globalization;
using System.Text;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The results: one Markdown row per cell and transport as soon as a payload size is done, each with its ratios to the
/// floor, the spin floor and UDS measured in the same cell; then the issue's targets as met / missed; and the CSV.
/// </summary>
internal sealed class ResultTable
{
    public const string FloorName = "floor";
    public const string SpinName = "spin";
    public const string UdsName = "uds";

    private static readonly string[] Columns =
    [
        "row", "size", "streams", "transport", "msgs", "p50 µs", "p99 µs", "p99.9 µs", "MB/s", "k msg/s", "CPU s/M msg",
        "ctx sw/msg", "client B/msg", "wake-ups/msg", "p50 x floor", "p50 x spin", "p50 x UDS", "rate x floor", "rate x UDS",
    ];

    private readonly List<(CellSpec Cell, IReadOnlyList<CellResult> Results)> _rows = [];

    public IReadOnlyList<(CellSpec Cell, IReadOnlyList<CellResult> Results)> Rows => _rows;

    public static void PrintHeader()
    {
        Console.WriteLine("| " + string.Join(" | ", Columns) + " |");
        Console.WriteLine("|---|---:|---:|---|" + string.Concat(Enumerable.Repeat("---:|", Columns.Length - 4)));
    }

    public void Add(CellSpec cell, IReadOnlyList<CellResult> results)
    {
        _rows.Add((cell, results));
        foreach (var r in results)
        {
            Console.WriteLine("| " + string.Join(" | ", Cells(r, results)) + " |");
        }
    }

    /// <summary>Writes every row with the same columns (machine-readable: plain numbers, empty when not applicable).</summary>
    public void WriteCsv(string path, string load)
    {
        var csv = new StringBuilder();
        csv.AppendLine("row,size_bytes,streams,transport,messages,elapsed_s,p50_us,p99_us,p999_us,mb_per_s,msgs_per_s,cpu_s_per_million,context_switches_per_msg,client_bytes_per_msg,wakeups_per_msg,p50_x_floor,p50_x_spin,p50_x_uds,rate_x_floor,rate_x_uds,loadavg");
        foreach (var (cell, results) in _rows)
        {
            foreach (var r in results)
            {
                var ratios = new RowRatios(r, results);
                string[] fields =
                [
                    cell.Label, N(cell.Size), N(cell.Streams), r.Transport, N(r.RoundTrips), D(r.Elapsed.TotalSeconds), D(r.PercentileMicros(50)),
                    D(r.PercentileMicros(99)), D(r.PercentileMicros(99.9)), D(r.MegabytesPerSecond), D(r.MessagesPerSecond), D(r.CpuSecondsPerMillion),
                    D(r.ContextSwitchesPerMessage), D(r.BytesPerMessage), r.WakeUps is { } w ? D((double)w / r.RoundTrips) : string.Empty, D(ratios.LatencyVsFloor), D(ratios.LatencyVsSpin),
                    D(ratios.LatencyVsUds), D(ratios.RateVsFloor), D(ratios.RateVsUds), load.Replace(',', ' '),
                ];
                csv.AppendLine(string.Join(',', fields));
            }
        }

        File.WriteAllText(path, csv.ToString());

        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string D(double v) => double.IsFinite(v) ? v.ToString("0.####", CultureInfo.InvariantCulture) : string.Empty;
    }

    /// <summary>The issue's targets, each as met / missed with the measured ratio (shmipc configurations only).</summary>
    public void PrintTargets()
    {
        Console.WriteLine();
        Console.WriteLine("Targets (ratios within the same cell of this run):");
        var lines = 0;
        foreach (var (cell, results) in _rows)
        {
            foreach (var r in results.Where(r => r.Transport.StartsWith("shm-", StringComparison.Ordinal)))
            {
                var ratios = new RowRatios(r, results);
                var name = $"{r.Transport} {cell.Label} {PingPongOptions.FormatSize(cell.Size)} x{cell.Streams}";
                switch (cell.Kind)
                {
                    case CellKind.PingPong when cell.Size == 64 && cell.Streams == 1:
                        if (r.Transport.StartsWith("shm-latency", StringComparison.Ordinal))
                        {
                            lines += Target(name, "p50 vs spin floor", ratios.LatencyVsSpin, 2.5, lowerIsBetter: true);
                        }

                        if (r.Transport.StartsWith("shm-balanced", StringComparison.Ordinal))
                        {
                            lines += Target(name, "p50 vs UDS p50", ratios.LatencyVsUds, 0.3, lowerIsBetter: true);
                        }

                        lines += Target(name, "p99 / p50", r.PercentileMicros(99) / r.PercentileMicros(50), 3, lowerIsBetter: true);
                        if (r.Transport == "shm-balanced" && results.FirstOrDefault(x => x.Transport == "shm-balanced+reactor") is { } reactor)
                        {
                            lines += Target(name, "default p50 vs balanced+reactor p50", r.PercentileMicros(50) / reactor.PercentileMicros(50), 1.5, lowerIsBetter: true);
                        }

                        break;
                    case CellKind.PingPong when cell.Size >= 64 * 1024:
                        lines += Target(name, "floor throughput / shm throughput", 1 / ratios.RateVsFloor, 1.5, lowerIsBetter: true);
                        lines += Target(name, "throughput vs UDS", ratios.RateVsUds, 2.5, lowerIsBetter: false);
                        break;
                    case CellKind.Rate:
                        lines += Target(name, "M requests/s", r.MessagesPerSecond / 1e6, 1, lowerIsBetter: false);
                        break;
                    case CellKind.OneWay when cell.Size == 64:
                        lines += Target(name, "M messages/s", r.MessagesPerSecond / 1e6, 6, lowerIsBetter: false);
                        break;
                    case CellKind.OneWay when cell.Size == 4096:
                        lines += Target(name, "M messages/s", r.MessagesPerSecond / 1e6, 1.5, lowerIsBetter: false);
                        break;
                }

                // Per-cell constants (tasks, the /proc reads of the CPU meter) are a few KiB; more than that at 1 B or more
                // per message is an allocation per message. The alloc-probe verb is the exact check.
                if (r.RoundTrips > 0 && r.BytesPerMessage >= 1 && r.AllocatedBytes >= 16 * 1024)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  MISSED {name}: client process allocates {r.BytesPerMessage:0.0} B per message (target 0)"));
                    lines++;
                }
            }
        }

        if (lines == 0)
        {
            Console.WriteLine("  (no cell of this run has a target: run with the shmipc transport and the default rows)");
        }
    }

    private static int Target(string name, string what, double value, double target, bool lowerIsBetter)
    {
        var met = lowerIsBetter ? value <= target : value >= target;
        var verdict = !double.IsFinite(value) ? "n/a   " : met ? "met   " : "MISSED";
        var shown = double.IsFinite(value) ? value.ToString("0.00", CultureInfo.InvariantCulture) : "not measured (the transport it is compared with did not run)";
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {verdict} {name}: {what} = {shown} (target {(lowerIsBetter ? "<=" : ">=")} {target:0.0#})"));
        return 1;
    }

    private static IEnumerable<string> Cells(CellResult r, IReadOnlyList<CellResult> results)
    {
        var ratios = new RowRatios(r, results);
        var roundTrips = r.Spec.Kind != CellKind.OneWay;
        yield return r.Spec.Label;
        yield return PingPongOptions.FormatSize(r.Size);
        yield return r.Streams.ToString(CultureInfo.InvariantCulture);
        yield return r.Transport;
        yield return r.RoundTrips.ToString(CultureInfo.InvariantCulture);
        yield return roundTrips ? Micros(r.PercentileMicros(50)) : "-";
        yield return roundTrips ? Micros(r.PercentileMicros(99)) : "-";
        yield return roundTrips ? Micros(r.PercentileMicros(99.9)) : "-";
        yield return r.MegabytesPerSecond.ToString("0.0", CultureInfo.InvariantCulture);
        yield return (r.MessagesPerSecond / 1000).ToString("0.0", CultureInfo.InvariantCulture);
        yield return F(r.CpuSecondsPerMillion, "0.0");
        yield return F(r.ContextSwitchesPerMessage, "0.00");
        yield return F(r.BytesPerMessage, "0.00");
        yield return r.WakeUps is { } w && r.RoundTrips > 0 ? ((double)w / r.RoundTrips).ToString("0.00", CultureInfo.InvariantCulture) : "-";
        yield return F(ratios.LatencyVsFloor, "0.00");
        yield return F(ratios.LatencyVsSpin, "0.00");
        yield return F(ratios.LatencyVsUds, "0.00");
        yield return F(ratios.RateVsFloor, "0.00");
        yield return F(ratios.RateVsUds, "0.00");
    }

    private static string Micros(double v) => !double.IsFinite(v) ? "-" : v.ToString(v >= 1000 ? "0" : "0.0", CultureInfo.InvariantCulture);

    private static string F(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
