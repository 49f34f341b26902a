using System.Globalization;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>Prints the results as a Markdown table, one row per (size, streams) as soon as it is measured, then the targets.</summary>
internal sealed class ResultTable
{
    private readonly List<(CellResult? Shm, CellResult? Uds)> _rows = [];

    public static void PrintHeader()
    {
        Console.WriteLine("| size | streams | shm RTs | shm p50 µs | shm p99 µs | shm p99.9 µs | UDS RTs | UDS p50 µs | UDS p99 µs | shm MB/s | UDS MB/s | UDS p50 / shm p50 | shm MB/s / UDS MB/s | wake-ups/RT | shm CPU µs/RT | UDS CPU µs/RT |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    }

    public void Add(CellResult? shm, CellResult? uds)
    {
        _rows.Add((shm, uds));
        var any = shm ?? uds!;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {PingPongOptions.FormatSize(any.Size)} | {any.Streams} | {shm?.RoundTrips.ToString(CultureInfo.InvariantCulture) ?? "-"} | {F(shm, 50)} | {F(shm, 99)} | {F(shm, 99.9)} | {uds?.RoundTrips.ToString(CultureInfo.InvariantCulture) ?? "-"} | {F(uds, 50)} | {F(uds, 99)} | {M(shm)} | {M(uds)} | {LatencyRatio(shm, uds)} | {ThroughputRatio(shm, uds)} | {WakeUps(shm)} | {Cpu(shm)} | {Cpu(uds)} |"));
    }

    /// <summary>The performance targets: 64 B p50 ≤ 0.5× UDS; 64 KB and larger ≥ 2× UDS throughput.</summary>
    public void PrintTargets()
    {
        Console.WriteLine();
        Console.WriteLine("Targets (shmipc vs UDS, same run):");
        foreach (var (shm, uds) in _rows)
        {
            if (shm is null || uds is null)
            {
                continue;
            }

            if (shm.Size == 64)
            {
                var ratio = shm.PercentileMicros(50) / uds.PercentileMicros(50);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  64B x{shm.Streams}: shmipc p50 = {ratio:0.00}x UDS p50 (target <= 0.50x): {(ratio <= 0.5 ? "met" : $"missed by {ratio / 0.5:0.00}x")}"));
            }
            else if (shm.Size >= 64 * 1024)
            {
                var ratio = shm.MegabytesPerSecond / uds.MegabytesPerSecond;
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {PingPongOptions.FormatSize(shm.Size)} x{shm.Streams}: shmipc throughput = {ratio:0.00}x UDS (target >= 2.00x): {(ratio >= 2 ? "met" : $"missed by {2 / ratio:0.00}x")}"));
            }
        }
    }

    private static string F(CellResult? r, double percentile) =>
        r is null ? "-" : r.PercentileMicros(percentile).ToString(r.PercentileMicros(percentile) >= 1000 ? "0" : "0.0", CultureInfo.InvariantCulture);

    private static string M(CellResult? r) => r is null ? "-" : r.MegabytesPerSecond.ToString("0.0", CultureInfo.InvariantCulture);

    private static string LatencyRatio(CellResult? shm, CellResult? uds) =>
        shm is null || uds is null ? "-" : (uds.PercentileMicros(50) / shm.PercentileMicros(50)).ToString("0.00", CultureInfo.InvariantCulture);

    private static string ThroughputRatio(CellResult? shm, CellResult? uds) =>
        shm is null || uds is null ? "-" : (shm.MegabytesPerSecond / uds.MegabytesPerSecond).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Cpu(CellResult? r) => r is null ? "-" : r.CpuMicrosPerRoundTrip.ToString("0.0", CultureInfo.InvariantCulture);

    private static string WakeUps(CellResult? shm) =>
        shm is null || shm.RoundTrips == 0 ? "-" : ((double)shm.WakeUps / shm.RoundTrips).ToString("0.00", CultureInfo.InvariantCulture);
}
