using System.Diagnostics;
using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The client side of the shmipc cells for one payload size: one session (its own buffer region, sized like
/// shmipc-go's bench), N streams per cell, each running write request → read echo → verify in a loop.
/// </summary>
/// <remarks>
/// Region: 256 MiB, 512 MiB above 1 MiB payloads (shmipc-go's bench). Slice classes: with <c>--classes single</c> one
/// class {size, 100 %} so every message is exactly one slice (shmipc-go's bench); with <c>default</c> shmipc's three
/// classes, and payloads above 131052 bytes are written as chains of the largest slices.
/// </remarks>
internal sealed class ShmipcClientRunner : IAsyncDisposable
{
    private const int LargestDefaultSlice = 131052;

    private readonly ShmipcSession _session;
    private readonly int _maxChunk;
    private readonly int _burst;

    private ShmipcClientRunner(ShmipcSession session, int maxChunk, int burst)
    {
        _session = session;
        _maxChunk = maxChunk;
        _burst = burst;
    }

    public static long RegionSizeFor(int size) => size > 1024 * 1024 ? 512L * 1024 * 1024 : 256L * 1024 * 1024;

    public static async Task<ShmipcClientRunner> ConnectAsync(string socketPath, PingPongOptions options, int size)
    {
        var clientOptions = new ShmipcClientOptions
        {
            MemoryMapType = options.MapType,
            BufferCapacity = options.Region ?? RegionSizeFor(size),
            SizeClasses = options.SingleClass ? [new BufferSizeClass(size, 100)] : ShmipcClientOptions.DefaultSizeClasses,
            PathPrefix = $"/dev/shm/shmipc_bench_{Guid.NewGuid():N}",
            PollingMode = options.Mode,
            RunContinuationsOnReactor = options.OnReactor,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var session = await ShmipcClient.ConnectAsync(socketPath, clientOptions, cts.Token);
        if (options.Prefault)
        {
            RegionPrefaulter.Touch(session);
        }

        return new ShmipcClientRunner(session, options.SingleClass ? size : LargestDefaultSlice, options.Burst);
    }

    public async Task<CellResult> RunAsync(MessageSet set, int streamCount, CellPlan warmup, CellPlan measure, Func<TimeSpan> cpu)
    {
        var result = new CellResult("shmipc", set.Size, streamCount);
        var streams = new ShmipcStream[streamCount];
        for (var i = 0; i < streamCount; i++)
        {
            streams[i] = _session.OpenStream();
        }

        try
        {
            await RunWorkersAsync(streams, set, warmup, null);
            if (_burst > 0)
            {
                await BurstAsync(streams[0], set);
                await RunWorkersAsync(streams, set, warmup, null);
            }

            var fallbacksBefore = _session.FallbackWriteCount + _session.FallbackReadCount;
            var wakeUpsBefore = _session.SyncEventsSent + _session.SyncEventsReceived;
            var histograms = new LongHistogram[streamCount];
            for (var i = 0; i < streamCount; i++)
            {
                histograms[i] = CellResult.NewHistogram();
            }

            var cpuBefore = cpu();
            var start = Stopwatch.GetTimestamp();
            result.RoundTrips = await RunWorkersAsync(streams, set, measure, histograms);
            result.Elapsed = Stopwatch.GetElapsedTime(start);
            result.CpuTime = cpu() - cpuBefore;
            result.WakeUps = _session.SyncEventsSent + _session.SyncEventsReceived - wakeUpsBefore;
            foreach (var h in histograms)
            {
                result.Histogram.Add(h);
            }

            var fallbacks = _session.FallbackWriteCount + _session.FallbackReadCount;
            if (fallbacks > 0)
            {
                Console.Error.WriteLine($"note: {_session.FallbackWriteCount} fallback writes / {_session.FallbackReadCount} reads over the socket so far, {fallbacks - fallbacksBefore} of them while measuring (shared memory exhausted)");
            }

            return result;
        }
        finally
        {
            foreach (var s in streams)
            {
                s.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    /// <summary>Writes <c>_burst</c> messages before reading any echo, then reads and verifies them all.</summary>
    private async Task BurstAsync(ShmipcStream stream, MessageSet set)
    {
        for (var k = 0; k < _burst; k++)
        {
            var lease = stream.Rent();
            try
            {
                LeaseIo.Write(lease, set.Get(k % MessageSet.Count), _maxChunk);
                await stream.Output.WriteAsync(lease);
            }
            finally
            {
                lease.Dispose();
            }
        }

        for (var k = 0; k < _burst; k++)
        {
            using var reply = await stream.Input.ReadAsync();
            if (!MessageSet.Verify(reply.Data, out var header) || header != set.Expected(k % MessageSet.Count))
            {
                throw new InvalidDataException($"shmipc stream {stream.Id}: the echo of burst message {k} failed verification");
            }
        }

        Console.Error.WriteLine($"burst of {_burst}: {_session.FallbackWriteCount} fallback writes / {_session.FallbackReadCount} reads; stream in fallback: {stream.IsInFallback}");
    }

    private async Task<long> RunWorkersAsync(ShmipcStream[] streams, MessageSet set, CellPlan plan, LongHistogram[]? histograms)
    {
        var deadline = plan.DeadlineFrom(Stopwatch.GetTimestamp());
        var tasks = new Task<long>[streams.Length];
        for (var i = 0; i < streams.Length; i++)
        {
            var stream = streams[i];
            var histogram = histograms?[i];
            var first = i % MessageSet.Count;
            tasks[i] = Task.Run(() => WorkerAsync(stream, set, _maxChunk, first, plan, deadline, histogram));
        }

        // With RunContinuationsOnReactor the last worker completes on the reactor thread; leave it before the
        // harness goes on (closing streams, building the next payload set) so that never runs on the reactor.
        var counts = await Task.WhenAll(tasks).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        return counts.Sum();
    }

    private static async Task<long> WorkerAsync(ShmipcStream stream, MessageSet set, int maxChunk, int first, CellPlan plan, long deadline, LongHistogram? histogram)
    {
        long done = 0;
        var k = first;
        while (true)
        {
            var t0 = Stopwatch.GetTimestamp();
            var lease = stream.Rent();
            try
            {
                LeaseIo.Write(lease, set.Get(k), maxChunk);
                await stream.Output.WriteAsync(lease);
            }
            finally
            {
                lease.Dispose(); // a no-op once the stream owns it
            }

            var reply = await stream.Input.ReadAsync();
            try
            {
                if (reply.Length != set.Size || !MessageSet.Verify(reply.Data, out var header) || header != set.Expected(k))
                {
                    throw new InvalidDataException($"shmipc stream {stream.Id}: the echo of message {k} ({set.Size} bytes, {reply.Length} received) failed verification");
                }
            }
            finally
            {
                reply.Dispose();
            }

            var t1 = Stopwatch.GetTimestamp();
            histogram?.RecordValue(CellResult.ToNanos(t1 - t0));
            done++;
            k = (k + 1) % MessageSet.Count;
            if (plan.IsDone(done, t1, deadline))
            {
                return done;
            }
        }
    }
}
