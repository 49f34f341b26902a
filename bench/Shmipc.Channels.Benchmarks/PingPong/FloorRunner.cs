namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The floor: the same work as a cell with no IPC at all, in this process. A round trip copies the request into a
/// request buffer (the lease / frame buffer), checksums every byte of it and copies it into a reply buffer (the server's
/// part), then checksums every byte of the reply and compares it with what was sent (the client's part). A one-way
/// message is copied into a buffer and checksummed. N streams = N dedicated threads doing this side by side.
/// </summary>
/// <remarks>
/// Why: a transport's cost is what it adds to this; targets are ratios to it (and to UDS), never absolute times, so a
/// loaded or slow machine moves the floor and the transports together.
/// </remarks>
internal sealed class FloorRunner : TransportRunner
{
    public override string Name => "floor";

    public override ServerProcess? Child => null;

    public override async Task<CellResult> RunAsync(CellSpec cell, MessageSet set, CellPlan warmup, CellPlan measure)
    {
        var result = new CellResult(Name, cell);
        var streams = cell.Kind == CellKind.OneWay ? 1 : cell.Streams;
        var buffers = new byte[2 * streams][]; // per stream a request and a reply buffer, allocated outside the meter
        for (var i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new byte[set.Size];
        }

        await RunThreadsAsync(cell, set, buffers, warmup, null);
        var histograms = StreamWorkers.NewHistograms(cell.Kind == CellKind.OneWay ? 0 : streams);
        var meter = StartMeter();
        result.RoundTrips = await RunThreadsAsync(cell, set, buffers, measure, histograms);
        meter.Stop(result);
        StreamWorkers.Merge(result, histograms);
        return result;
    }

    private static async Task<long> RunThreadsAsync(CellSpec cell, MessageSet set, byte[][] buffers, CellPlan plan, HdrHistogram.LongHistogram[]? histograms)
    {
        var deadline = plan.DeadlineFrom(System.Diagnostics.Stopwatch.GetTimestamp());
        var tasks = new Task<long>[buffers.Length / 2];
        for (var i = 0; i < tasks.Length; i++)
        {
            var first = i % MessageSet.Count;
            var histogram = histograms is { Length: > 0 } ? histograms[i] : null;
            var request = buffers[2 * i];
            var reply = buffers[(2 * i) + 1];
            tasks[i] = cell.Kind == CellKind.OneWay
                ? StreamWorkers.StartThread(() => OneWay(set, request, plan, deadline))
                : StreamWorkers.StartThread(() => RoundTrips(set, request, reply, first, plan, deadline, histogram));
        }

        var counts = await Task.WhenAll(tasks);
        return counts.Sum();
    }

    private static long RoundTrips(MessageSet set, byte[] request, byte[] reply, int first, CellPlan plan, long deadline, HdrHistogram.LongHistogram? histogram)
    {
        long done = 0;
        var k = first;
        while (true)
        {
            var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            set.Get(k).CopyTo(request);
            if (!MessageSet.Verify(request, out _))
            {
                throw new InvalidDataException("floor: request failed verification");
            }

            request.CopyTo(reply.AsSpan());
            if (!MessageSet.Verify(reply, out var header) || header != set.Expected(k))
            {
                throw new InvalidDataException("floor: reply failed verification");
            }

            var t1 = System.Diagnostics.Stopwatch.GetTimestamp();
            histogram?.RecordValue(CellResult.ToNanos(t1 - t0));
            done++;
            k = (k + 1) % MessageSet.Count;
            if (plan.IsDone(done, t1, deadline))
            {
                return done;
            }
        }
    }

    private static long OneWay(MessageSet set, byte[] buffer, CellPlan plan, long deadline)
    {
        long done = 0;
        var k = 0;
        while (true)
        {
            set.Get(k).CopyTo(buffer);
            if (!MessageSet.Verify(buffer, out var header) || header != set.Expected(k))
            {
                throw new InvalidDataException("floor: message failed verification");
            }

            done++;
            k = (k + 1) % MessageSet.Count;
            if ((done & 63) == 0 && plan.IsDone(done, System.Diagnostics.Stopwatch.GetTimestamp(), deadline))
            {
                return done;
            }
        }
    }
}
