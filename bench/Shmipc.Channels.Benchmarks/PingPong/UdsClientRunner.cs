using System.Diagnostics;
using System.Net.Sockets;
using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The client side of the UDS cells: N connections per cell (plain <see cref="Socket"/>, AF_UNIX, default buffer
/// sizes), each running the same loop as the shmipc streams: copy the request into a frame, send, receive the echo,
/// verify every byte. One-way cells: one connection, a hello round trip, then frames back to back; the burst ends with a
/// sync frame whose echo says the server has verified everything before it.
/// </summary>
internal sealed class UdsClientRunner(string socketPath, bool synchronous, ServerProcess child) : TransportRunner
{
    public override string Name => "uds";

    public override ServerProcess? Child => child;

    public override async Task<CellResult> RunAsync(CellSpec cell, MessageSet set, CellPlan warmup, CellPlan measure)
    {
        var result = new CellResult(Name, cell);
        var connectionCount = cell.Kind == CellKind.OneWay ? 1 : cell.Streams;
        var sockets = new Socket[connectionCount];
        try
        {
            for (var i = 0; i < connectionCount; i++)
            {
                sockets[i] = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await sockets[i].ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            }

            if (cell.Kind == CellKind.OneWay)
            {
                var socket = sockets[0];
                await RoundTripControlAsync(socket, MessageSet.Hello);
                await OneWayAsync(socket, set, warmup);
                var meter = StartMeter();
                result.RoundTrips = await OneWayAsync(socket, set, measure);
                meter.Stop(result);
                return result;
            }

            await RunWorkersAsync(sockets, set, warmup, null);
            var histograms = StreamWorkers.NewHistograms(connectionCount);
            var measured = StartMeter();
            result.RoundTrips = await RunWorkersAsync(sockets, set, measure, histograms);
            measured.Stop(result);
            StreamWorkers.Merge(result, histograms);
            return result;
        }
        finally
        {
            foreach (var s in sockets)
            {
                s?.Dispose();
            }
        }
    }

    private Task<long> OneWayAsync(Socket socket, MessageSet set, CellPlan plan) =>
        synchronous ? StreamWorkers.StartThread(() => OneWay(socket, set, plan)) : OneWayAsyncCore(socket, set, plan);

    private static async Task<long> OneWayAsyncCore(Socket socket, MessageSet set, CellPlan plan)
    {
        var frame = new FrameBuffer(FrameBuffer.PrefixSize + set.Size);
        var deadline = plan.DeadlineFrom(Stopwatch.GetTimestamp());
        long done = 0;
        var k = 0;
        while (true)
        {
            UdsFraming.WritePrefix(frame, set.Size);
            set.Get(k).CopyTo(frame.Array.AsSpan(FrameBuffer.PrefixSize));
            await UdsFraming.SendAsync(socket, frame.Array.AsMemory(0, FrameBuffer.PrefixSize + set.Size));
            done++;
            k = (k + 1) % MessageSet.Count;
            if ((done & 15) == 0 && plan.IsDone(done, Stopwatch.GetTimestamp(), deadline))
            {
                break;
            }
        }

        await RoundTripControlAsync(socket, MessageSet.Sync);
        return done;
    }

    private static long OneWay(Socket socket, MessageSet set, CellPlan plan)
    {
        var frame = new FrameBuffer(FrameBuffer.PrefixSize + set.Size);
        var deadline = plan.DeadlineFrom(Stopwatch.GetTimestamp());
        long done = 0;
        var k = 0;
        while (true)
        {
            UdsFraming.WritePrefix(frame, set.Size);
            set.Get(k).CopyTo(frame.Array.AsSpan(FrameBuffer.PrefixSize));
            UdsFraming.Send(socket, frame.Array.AsSpan(0, FrameBuffer.PrefixSize + set.Size));
            done++;
            k = (k + 1) % MessageSet.Count;
            if ((done & 15) == 0 && plan.IsDone(done, Stopwatch.GetTimestamp(), deadline))
            {
                break;
            }
        }

        RoundTripControlAsync(socket, MessageSet.Sync).GetAwaiter().GetResult();
        return done;
    }

    /// <summary>Sends a control message (hello / sync) and waits for its echo.</summary>
    private static async Task RoundTripControlAsync(Socket socket, byte[] message)
    {
        var frame = new FrameBuffer(FrameBuffer.PrefixSize + message.Length);
        UdsFraming.WritePrefix(frame, message.Length);
        message.CopyTo(frame.Array.AsSpan(FrameBuffer.PrefixSize));
        await UdsFraming.SendAsync(socket, frame.Array.AsMemory(0, FrameBuffer.PrefixSize + message.Length));
        var reply = new FrameBuffer(FrameBuffer.PrefixSize + message.Length);
        var length = await UdsFraming.ReceiveAsync(socket, reply);
        if (!reply.Array.AsSpan(FrameBuffer.PrefixSize, Math.Max(length, 0)).SequenceEqual(message))
        {
            throw new InvalidDataException("uds: the echo of a control message failed verification");
        }
    }

    private async Task<long> RunWorkersAsync(Socket[] sockets, MessageSet set, CellPlan plan, LongHistogram[]? histograms)
    {
        var deadline = plan.DeadlineFrom(Stopwatch.GetTimestamp());
        var tasks = new Task<long>[sockets.Length];
        for (var i = 0; i < sockets.Length; i++)
        {
            var socket = sockets[i];
            var histogram = histograms?[i];
            var first = i % MessageSet.Count;
            tasks[i] = synchronous
                ? StreamWorkers.StartThread(() => Worker(socket, set, first, plan, deadline, histogram))
                : Task.Run(() => WorkerAsync(socket, set, first, plan, deadline, histogram));
        }

        var counts = await Task.WhenAll(tasks);
        return counts.Sum();
    }

    private static async Task<long> WorkerAsync(Socket socket, MessageSet set, int first, CellPlan plan, long deadline, LongHistogram? histogram)
    {
        var request = new FrameBuffer(FrameBuffer.PrefixSize + set.Size);
        var reply = new FrameBuffer(FrameBuffer.PrefixSize + set.Size);
        long done = 0;
        var k = first;
        while (true)
        {
            var t0 = Stopwatch.GetTimestamp();
            UdsFraming.WritePrefix(request, set.Size);
            set.Get(k).CopyTo(request.Array.AsSpan(FrameBuffer.PrefixSize));
            await UdsFraming.SendAsync(socket, request.Array.AsMemory(0, FrameBuffer.PrefixSize + set.Size));
            var length = await UdsFraming.ReceiveAsync(socket, reply);
            Check(set, k, reply, length);
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

    private static long Worker(Socket socket, MessageSet set, int first, CellPlan plan, long deadline, LongHistogram? histogram)
    {
        var request = new FrameBuffer(FrameBuffer.PrefixSize + set.Size);
        var reply = new FrameBuffer(FrameBuffer.PrefixSize + set.Size);
        long done = 0;
        var k = first;
        while (true)
        {
            var t0 = Stopwatch.GetTimestamp();
            UdsFraming.WritePrefix(request, set.Size);
            set.Get(k).CopyTo(request.Array.AsSpan(FrameBuffer.PrefixSize));
            UdsFraming.Send(socket, request.Array.AsSpan(0, FrameBuffer.PrefixSize + set.Size));
            var length = UdsFraming.Receive(socket, reply);
            Check(set, k, reply, length);
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

    private static void Check(MessageSet set, int k, FrameBuffer reply, int length)
    {
        if (length != set.Size || !MessageSet.Verify(reply.Array.AsSpan(FrameBuffer.PrefixSize, length), out var header) || header != set.Expected(k))
        {
            throw new InvalidDataException($"uds: the echo of message {k} ({set.Size} bytes, {length} received) failed verification");
        }
    }
}
