using System.Diagnostics;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>How long each stream of a cell runs: until a deadline or an iteration count, with a minimum count.</summary>
internal readonly record struct CellPlan(TimeSpan? Duration, long IterationsPerStream, long MinimumPerStream)
{
    public static CellPlan ForMeasurement(PingPongOptions options, int streams) => options.Iterations is { } total
        ? new CellPlan(null, Math.Max(1, (total + streams - 1) / streams), 1)
        : new CellPlan(options.Duration, long.MaxValue, 1);

    public static CellPlan ForWarmup(PingPongOptions options) => new(options.Warmup, long.MaxValue, 2);

    /// <summary>The Stopwatch timestamp after which a stream stops (long.MaxValue without a duration).</summary>
    public long DeadlineFrom(long start) => Duration is { } d ? start + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

    /// <summary>Whether a stream that has done <paramref name="done"/> round trips, the last ending at <paramref name="now"/>, stops.</summary>
    public bool IsDone(long done, long now, long deadline) => done >= MinimumPerStream && (done >= IterationsPerStream || now >= deadline);
}
