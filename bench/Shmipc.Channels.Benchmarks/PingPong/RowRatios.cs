namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// A result's ratios to the other transports of the same cell: latency as this p50 / their p50 (lower is better, 1 =
/// as fast as the floor), rate as this messages/s / theirs (higher is better). NaN where the other transport did not run.
/// </summary>
internal readonly struct RowRatios
{
    public RowRatios(CellResult r, IReadOnlyList<CellResult> cell)
    {
        var floor = cell.FirstOrDefault(x => x.Transport == ResultTable.FloorName);
        var spin = cell.FirstOrDefault(x => x.Transport == ResultTable.SpinName);
        var uds = cell.FirstOrDefault(x => x.Transport == ResultTable.UdsName);
        var p50 = r.PercentileMicros(50);
        LatencyVsFloor = r == floor ? double.NaN : p50 / (floor?.PercentileMicros(50) ?? double.NaN);
        LatencyVsSpin = r == spin || r == floor ? double.NaN : p50 / (spin?.PercentileMicros(50) ?? double.NaN);
        LatencyVsUds = r == uds || r == floor ? double.NaN : p50 / (uds?.PercentileMicros(50) ?? double.NaN);
        RateVsFloor = r == floor || floor is null ? double.NaN : r.MessagesPerSecond / floor.MessagesPerSecond;
        RateVsUds = r == uds || r == floor || uds is null ? double.NaN : r.MessagesPerSecond / uds.MessagesPerSecond;
    }

    public double LatencyVsFloor { get; }

    public double LatencyVsSpin { get; }

    public double LatencyVsUds { get; }

    public double RateVsFloor { get; }

    public double RateVsUds { get; }
}
