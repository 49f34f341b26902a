using System.Globalization;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// The <c>alloc-probe</c> verb: runs the <see cref="SessionRoundTripBenchmarks"/> round trip outside BenchmarkDotNet,
/// reports bytes allocated per round trip (all threads, GC.GetTotalAllocatedBytes(precise)) and then, in a second
/// phase with an EventListener attached, which types each thread allocates (GCAllocationTick samples).
/// </summary>
/// <remarks>
/// Usage: <c>alloc-probe [--iterations 200000] [--on-reactor]</c>. The listener itself allocates while it dispatches
/// events, so the bytes-per-op figure comes from the first phase, measured without it.
/// <c>alloc-probe --smoke</c> is the CI check: a short run of each configuration (<see cref="SmokeConfigurations"/>),
/// exit code 1 if any allocates on average 1 byte or more per round trip; time is printed, never judged.
/// </remarks>
internal static class AllocationProbe
{
    private const int SmokeWarmup = 5_000;
    private const int SmokeIterations = 20_000;

    /// <summary>The configurations the smoke run checks: the default, readers on the reactor, and Latency polling.</summary>
    private static readonly (PollingMode Mode, bool OnReactor)[] SmokeConfigurations =
    [
        (PollingMode.Balanced, false),
        (PollingMode.Balanced, true),
        (PollingMode.Latency, false),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var iterations = 200_000;
        var onReactor = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--smoke":
                    return await SmokeAsync();
                case "--iterations":
                    iterations = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--on-reactor":
                    onReactor = true;
                    break;
                default:
                    Console.Error.WriteLine($"alloc-probe: unknown option {args[i]}");
                    return 2;
            }
        }

        var bench = new SessionRoundTripBenchmarks { OnReactor = onReactor };
        await bench.SetupAsync();
        try
        {
            // Warm-up: tiering, pools, the channel's queue segments.
            for (var i = 0; i < 20_000; i++)
            {
                await bench.RoundTrip();
            }

            var before = GC.GetTotalAllocatedBytes(precise: true);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            for (var i = 0; i < iterations; i++)
            {
                await bench.RoundTrip();
            }

            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"session round trip, 64 B, RunContinuationsOnReactor={onReactor}: {iterations} round trips, {elapsed.TotalMilliseconds * 1000 / iterations:0.00} us/op, {(double)allocated / iterations:0.0} B/op ({allocated} B total, all threads)"));

            using var listener = new AllocationTickListener();
            listener.Recording = true;
            for (var i = 0; i < iterations; i++)
            {
                await bench.RoundTrip();
            }

            await Task.Delay(500); // runtime events reach the listener asynchronously (EventPipe): let the last ones in
            listener.Recording = false;
            Console.WriteLine("GCAllocationTick samples (about one per 100 KB allocated), by type and allocating thread:");
            PrintSamples(listener);

            // Calibration: the listener must see a known allocation, or "no samples" above would prove nothing.
            listener.Clear();
            listener.Recording = true;
            var sink = 0;
            for (var i = 0; i < 20_000; i++)
            {
                sink += new byte[100 + (i & 1)].Length;
            }

            long calibration = 0;
            var waitUntil = DateTime.UtcNow.AddSeconds(5);
            while (calibration == 0 && DateTime.UtcNow < waitUntil)
            {
                await Task.Delay(50); // events arrive asynchronously (EventPipe); bounded wait for the first one
                calibration = listener.Samples.Where(s => s.Key.Type == "System.Byte[]").Sum(s => s.Value.Events);
            }

            listener.Recording = false;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"calibration: {sink} B of byte[] allocated on purpose -> {calibration} System.Byte[] ticks seen"));
            return 0;
        }
        finally
        {
            await bench.CleanupAsync();
        }
    }

    /// <summary>Each smoke configuration: warm up, then count every byte any thread allocates over the measured round trips.</summary>
    private static async Task<int> SmokeAsync()
    {
        var failures = 0;
        foreach (var (mode, onReactor) in SmokeConfigurations)
        {
            var bench = new SessionRoundTripBenchmarks { OnReactor = onReactor, Mode = mode };
            await bench.SetupAsync();
            try
            {
                for (var i = 0; i < SmokeWarmup; i++)
                {
                    await bench.RoundTrip();
                }

                var before = GC.GetTotalAllocatedBytes(precise: true);
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                for (var i = 0; i < SmokeIterations; i++)
                {
                    await bench.RoundTrip();
                }

                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
                var perOp = (double)allocated / SmokeIterations;
                var ok = perOp < 1;
                failures += ok ? 0 : 1;
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"alloc smoke {mode}{(onReactor ? "+reactor" : string.Empty)}: {SmokeIterations} round trips of 64 B, {perOp:0.00} B/op ({allocated} B, all threads), {elapsed.TotalMilliseconds * 1000 / SmokeIterations:0.0} us/op (not judged): {(ok ? "ok" : "FAILED, run alloc-probe" + (onReactor ? " --on-reactor" : string.Empty) + " for the allocating types")}"));
            }
            finally
            {
                await bench.CleanupAsync();
            }
        }

        return failures == 0 ? 0 : 1;
    }

    private static void PrintSamples(AllocationTickListener listener)
    {
        if (listener.Samples.Count == 0)
        {
            Console.WriteLine("  (none)");
        }

        foreach (var ((type, thread), (events, bytes)) in listener.Samples.OrderByDescending(s => s.Value.Bytes))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {events,6} ticks  {bytes,12} B  {type}  [{thread}]"));
        }
    }
}
