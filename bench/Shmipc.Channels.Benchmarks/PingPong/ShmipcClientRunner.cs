using System.Diagnostics;
using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The client side of the shmipc cells of one configuration (<see cref="ShmipcMode"/>): per payload size one session
/// (its own buffer region, sized like shmipc-go's bench), N streams per cell, each running write request → read echo →
/// verify in a loop. One-way cells: one stream, a hello round trip, then messages back to back ending with a sync
/// message whose echo says the server has verified everything before it.
/// </summary>
/// <remarks>
/// Region: 256 MiB, 512 MiB above 1 MiB payloads (shmipc-go's bench). Slice classes: with <c>--classes single</c> one
/// class {size, 100 %} so every message is exactly one slice (shmipc-go's bench); with <c>default</c> shmipc's three
/// classes, and payloads above 131052 bytes are written as chains of the largest slices.
/// </remarks>
internal sealed class ShmipcClientRunner(string socketPath, PingPongOptions options, ShmipcMode mode, ServerProcess? child) : TransportRunner
{
    private const int LargestDefaultSlice = 131052;

    private ShmipcSession? _session;
    private int _maxChunk;

    private ShmipcSession Session => _session ?? throw new InvalidOperationException("no session: BeginSizeAsync first");

    public override string Name => mode.Name;

    public static long RegionSizeFor(int size) => size > 1024 * 1024 ? 512L * 1024 * 1024 : 256L * 1024 * 1024;

    public override ServerProcess? Child => child;

    public override async Task BeginSizeAsync(int size)
    {
        _session = await ConnectAsync(socketPath, options, mode, size);
        _maxChunk = options.SingleClass ? size : LargestDefaultSlice;
    }

    public override async Task EndSizeAsync()
    {
        if (_session is { } session)
        {
            _session = null;
            await session.DisposeAsync();
        }
    }

    public static async Task<ShmipcSession> ConnectAsync(string socketPath, PingPongOptions options, ShmipcMode mode, int size)
    {
        var clientOptions = new ShmipcClientOptions
        {
            MemoryMapType = options.MapType,
            BufferCapacity = options.Region ?? RegionSizeFor(size),
            SizeClasses = options.SingleClass ? [new BufferSizeClass(size, 100)] : ShmipcClientOptions.DefaultSizeClasses,
            PathPrefix = $"/dev/shm/shmipc_bench_{Guid.NewGuid():N}",
            PollingMode = mode.Polling,
            RunContinuationsOnReactor = mode.OnReactor,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var session = await ShmipcClient.ConnectAsync(socketPath, clientOptions, cts.Token);
        if (options.Prefault)
        {
            RegionPrefaulter.Touch(session);
        }

        return session;
    }

    public override async Task<CellResult> RunAsync(CellSpec cell, MessageSet set, CellPlan warmup, CellPlan measure)
    {
        // This process's spin strategy is process-wide: each configuration sets its own before each of its cells.
        mode.ApplySpinTuning();
        var result = new CellResult(Name, cell);
        var streamCount = cell.Kind == CellKind.OneWay ? 1 : cell.Streams;
        var streams = new ShmipcStream[streamCount];
        for (var i = 0; i < streamCount; i++)
        {
            streams[i] = Session.OpenStream();
        }

        try
        {
            if (cell.Kind == CellKind.OneWay)
            {
                return await RunOneWayAsync(streams[0], set, warmup, measure, result);
            }

            await RunWorkersAsync(streams, set, warmup, null);
            if (options.Burst > 0)
            {
                await BurstAsync(streams[0], set);
                await RunWorkersAsync(streams, set, warmup, null);
            }

            var session = Session;
            var fallbacksBefore = session.FallbackWriteCount + session.FallbackReadCount;
            var wakeUpsBefore = session.SyncEventsSent + session.SyncEventsReceived;
            var histograms = StreamWorkers.NewHistograms(streamCount);
            var meter = StartMeter();
            result.RoundTrips = await RunWorkersAsync(streams, set, measure, histograms);
            meter.Stop(result);
            result.WakeUps = session.SyncEventsSent + session.SyncEventsReceived - wakeUpsBefore;
            StreamWorkers.Merge(result, histograms);
            ReportFallbacks(session, fallbacksBefore, cell);
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

    private static void ReportFallbacks(ShmipcSession session, long before, CellSpec cell)
    {
        var fallbacks = session.FallbackWriteCount + session.FallbackReadCount;
        if (fallbacks > before)
        {
            Console.Error.WriteLine($"note ({cell.Label} {PingPongOptions.FormatSize(cell.Size)} x{cell.Streams}): {session.FallbackWriteCount} fallback writes / {session.FallbackReadCount} reads over the socket so far, {fallbacks - before} of them while measuring (shared memory exhausted)");
        }
    }

    private async Task<CellResult> RunOneWayAsync(ShmipcStream stream, MessageSet set, CellPlan warmup, CellPlan measure, CellResult result)
    {
        await RoundTripControlAsync(stream, MessageSet.Hello);
        await SendManyAsync(stream, set, warmup, _maxChunk).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        var session = Session;
        var fallbacksBefore = session.FallbackWriteCount + session.FallbackReadCount;
        var wakeUpsBefore = session.SyncEventsSent + session.SyncEventsReceived;
        var meter = StartMeter();
        result.RoundTrips = await SendManyAsync(stream, set, measure, _maxChunk).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        meter.Stop(result);
        result.WakeUps = session.SyncEventsSent + session.SyncEventsReceived - wakeUpsBefore;
        ReportFallbacks(session, fallbacksBefore, result.Spec);
        return result;
    }

    /// <summary>Writes messages back to back until the plan is done, then the sync message, and waits for its echo.</summary>
    private static async Task<long> SendManyAsync(ShmipcStream stream, MessageSet set, CellPlan plan, int maxChunk)
    {
        var deadline = plan.DeadlineFrom(Stopwatch.GetTimestamp());
        long done = 0;
        var k = 0;
        while (true)
        {
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

            done++;
            k = (k + 1) % MessageSet.Count;
            if ((done & 15) == 0 && plan.IsDone(done, Stopwatch.GetTimestamp(), deadline))
            {
                break;
            }
        }

        await RoundTripControlAsync(stream, MessageSet.Sync);
        return done;
    }

    private static async Task RoundTripControlAsync(ShmipcStream stream, byte[] message)
    {
        var lease = stream.Rent();
        try
        {
            LeaseIo.Write(lease, message, message.Length);
            await stream.Output.WriteAsync(lease);
        }
        finally
        {
            lease.Dispose();
        }

        using var reply = await stream.Input.ReadAsync();
        if (reply.Length != message.Length || !MessageSet.Verify(reply.Data, out var header) || header != MessageSet.Header(message))
        {
            throw new InvalidDataException($"shmipc stream {stream.Id}: the echo of a control message failed verification");
        }
    }

    /// <summary>Writes <c>--burst</c> messages before reading any echo, then reads and verifies them all.</summary>
    private async Task BurstAsync(ShmipcStream stream, MessageSet set)
    {
        for (var k = 0; k < options.Burst; k++)
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

        for (var k = 0; k < options.Burst; k++)
        {
            using var reply = await stream.Input.ReadAsync();
            if (!MessageSet.Verify(reply.Data, out var header) || header != set.Expected(k % MessageSet.Count))
            {
                throw new InvalidDataException($"shmipc stream {stream.Id}: the echo of burst message {k} failed verification");
            }
        }

        Console.Error.WriteLine($"burst of {options.Burst}: {Session.FallbackWriteCount} fallback writes / {Session.FallbackReadCount} reads; stream in fallback: {stream.IsInFallback}");
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
