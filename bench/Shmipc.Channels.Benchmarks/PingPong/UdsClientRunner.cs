using System.Diagnostics;
using System.Net.Sockets;
using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The client side of the UDS cells: N connections per cell (plain <see cref="Socket"/>, AF_UNIX, default buffer
/// sizes), each running the same loop as the shmipc streams: copy the request into a frame, send, receive the echo,
/// verify every byte.
/// </summary>
internal sealed class UdsClientRunner(string socketPath, bool synchronous)
{
    public async Task<CellResult> RunAsync(MessageSet set, int connectionCount, CellPlan warmup, CellPlan measure, Func<TimeSpan> cpu)
    {
        var result = new CellResult("uds", set.Size, connectionCount);
        var sockets = new Socket[connectionCount];
        try
        {
            for (var i = 0; i < connectionCount; i++)
            {
                sockets[i] = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await sockets[i].ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            }

            await RunWorkersAsync(sockets, set, warmup, null);
            var histograms = new LongHistogram[connectionCount];
            for (var i = 0; i < connectionCount; i++)
            {
                histograms[i] = CellResult.NewHistogram();
            }

            var cpuBefore = cpu();
            var start = Stopwatch.GetTimestamp();
            result.RoundTrips = await RunWorkersAsync(sockets, set, measure, histograms);
            result.Elapsed = Stopwatch.GetElapsedTime(start);
            result.CpuTime = cpu() - cpuBefore;
            foreach (var h in histograms)
            {
                result.Histogram.Add(h);
            }

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
                ? Task.Factory.StartNew(() => Worker(socket, set, first, plan, deadline, histogram), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
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
