using System.Diagnostics;

namespace Shmipc.Demo;

/// <summary>Round-trip times of one run, in microseconds.</summary>
internal sealed record LatencySummary(int Count, double P50, double Mean, double P99)
{
    /// <summary>Summarises <see cref="Stopwatch"/> tick samples (sorts them in place).</summary>
    public static LatencySummary FromTicks(long[] ticks)
    {
        Array.Sort(ticks);
        var toMicros = 1_000_000.0 / Stopwatch.Frequency;
        double sum = 0;
        foreach (var t in ticks)
        {
            sum += t;
        }

        return new LatencySummary(
            ticks.Length,
            ticks[(ticks.Length - 1) / 2] * toMicros,
            sum / ticks.Length * toMicros,
            ticks[(int)Math.Ceiling(ticks.Length * 0.99) - 1] * toMicros);
    }

    public string Format(string label) => $"  {label,-12} p50 {P50,7:0.0} µs   mean {Mean,7:0.0} µs   p99 {P99,7:0.0} µs";
}
