using System.Diagnostics;
using System.Globalization;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// How often this machine takes the core from a thread that never yields: one such thread per core reads the clock in a
/// loop for a while, and every gap between two reads longer than <see cref="GapMicros"/> is time the thread did not run
/// (a hypervisor's steal, an interrupt, another thread). Printed with every run because it bounds the tail: a round
/// trip of T µs on two cores is hit with a chance of about 2·T·rate, and then takes as long as the gap.
/// </summary>
internal static class InterferenceProbe
{
    public const int GapMicros = 5;

    /// <summary>Runs the probe for <paramref name="duration"/> on every core at once and describes the result in one line.</summary>
    public static string Measure(TimeSpan duration)
    {
        var threads = Environment.ProcessorCount;
        var results = new (long Gaps, long Over50, long LostTicks)[threads];
        var workers = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            var index = i;
            workers[i] = new Thread(() => results[index] = Probe(duration)) { IsBackground = true, Name = "interference-probe" };
            workers[i].Start();
        }

        foreach (var w in workers)
        {
            w.Join();
        }

        var seconds = duration.TotalSeconds * threads;
        var gaps = results.Sum(r => r.Gaps) / seconds;
        var over50 = results.Sum(r => r.Over50) / seconds;
        var lost = results.Sum(r => r.LostTicks) / (double)Stopwatch.Frequency / seconds;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"interference: a thread that never yields lost its core {gaps:0} times/s per core for > {GapMicros} µs ({over50:0} times/s > 50 µs, {lost:P1} of the time); {threads} such threads, {duration.TotalSeconds:0.#} s");
    }

    private static (long Gaps, long Over50, long LostTicks) Probe(TimeSpan duration)
    {
        var gapTicks = Stopwatch.Frequency * GapMicros / 1_000_000;
        var over50Ticks = Stopwatch.Frequency * 50 / 1_000_000;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var last = start;
        long gaps = 0, over50 = 0, lost = 0;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            var d = now - last;
            if (d > gapTicks)
            {
                gaps++;
                lost += d;
                over50 += d > over50Ticks ? 1 : 0;
            }

            if (now >= end)
            {
                return (gaps, over50, lost);
            }

            last = now;
        }
    }
}
