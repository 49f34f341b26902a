using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>Small helpers the runners share: per-stream histograms and dedicated worker threads.</summary>
internal static class StreamWorkers
{
    public static LongHistogram[] NewHistograms(int count)
    {
        var histograms = new LongHistogram[count];
        for (var i = 0; i < count; i++)
        {
            histograms[i] = CellResult.NewHistogram();
        }

        return histograms;
    }

    public static void Merge(CellResult result, LongHistogram[] histograms)
    {
        foreach (var h in histograms)
        {
            result.Histogram.Add(h);
        }
    }

    /// <summary>
    /// Runs a blocking loop on its own thread: loops that never yield (the floor, the spin floor, sync sockets) must not
    /// sit in the thread pool's queue behind each other while the deadline runs.
    /// </summary>
    public static Task<long> StartThread(Func<long> loop) =>
        Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
