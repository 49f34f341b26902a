using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// A floor transport whose client is one blocking loop on a thread of its own (<see cref="SpinRunner"/>,
/// <see cref="QueueFloorRunner"/>): the warm-up and the measured part each run <see cref="Loop"/> once.
/// </summary>
internal abstract class DedicatedThreadRunner : TransportRunner
{
    public override async Task<CellResult> RunAsync(CellSpec cell, MessageSet set, CellPlan warmup, CellPlan measure)
    {
        var result = new CellResult(Name, cell);
        await StreamWorkers.StartThread(() => Loop(set, warmup, null));
        var histogram = CellResult.NewHistogram();
        var meter = StartMeter();
        result.RoundTrips = await StreamWorkers.StartThread(() => Loop(set, measure, histogram));
        meter.Stop(result);
        result.Histogram.Add(histogram);
        return result;
    }

    /// <summary>Round trips until <paramref name="plan"/> is done, each recorded in <paramref name="histogram"/> if given; returns their number.</summary>
    protected abstract long Loop(MessageSet set, CellPlan plan, LongHistogram? histogram);
}
