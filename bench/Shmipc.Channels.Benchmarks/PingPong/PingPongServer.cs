using System.Globalization;
using System.Net.Sockets;
using Shmipc.Channels.Reactor;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The <c>pingpong-server</c> verb: the server child process the harness starts. It binds one transport, prints
/// <c>READY</c> on stdout, echoes until its stdin reaches end of file (the harness closes it, or dies; an <c>ALLOC</c>
/// line on stdin is answered with <c>ALLOC bytes-allocated-so-far</c>), then prints a
/// <c>STATS verified=… mismatches=… bytes=…</c> line and exits (3 if any request failed its checksum).
/// </summary>
/// <remarks>Usage: <c>pingpong-server --transport shmipc|uds --socket PATH [--mode balanced|latency|lowcpu] [--on-reactor] [--rounds-per-yield N] [--no-prefault] [--uds-api async|sync]</c>,
/// or <c>pingpong-server --transport spin --file PATH</c> (the spin floor, <see cref="SpinServer"/>), or
/// <c>pingpong-server --transport queue --file PATH</c> (the queue floor, <see cref="QueueFloorServer"/>), or
/// <c>pingpong-server --transport hog</c> (a CPU hog for <c>pingpong --hog N</c>: one thread that spins until stdin closes).</remarks>
internal static class PingPongServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? transport = null;
        string? path = null;
        var mode = PollingMode.Balanced;
        var onReactor = false;
        var synchronous = false;
        var prefault = true;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--transport":
                    transport = args[++i];
                    break;
                case "--socket":
                case "--file":
                    path = args[++i];
                    break;
                case "--mode":
                    mode = PingPongOptions.ParseMode(args[++i]);
                    break;
                case "--on-reactor":
                    onReactor = true;
                    break;
                case "--no-prefault":
                    prefault = false;
                    break;
                case "--rounds-per-yield":
                    SpinTuning.RoundsPerYield = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--uds-api":
                    synchronous = args[++i] == "sync";
                    break;
                default:
                    Console.Error.WriteLine($"pingpong-server: unknown option {args[i]}");
                    return 2;
            }
        }

        if (transport == "hog")
        {
            var stop = false;
            var hog = new Thread(() =>
            {
                var x = 0UL;
                while (!Volatile.Read(ref stop))
                {
                    x = (x * 6364136223846793005UL) + 1442695040888963407UL;
                }

                GC.KeepAlive(x);
            }) { IsBackground = true, Name = "cpu-hog" };
            hog.Start();
            await ReadyThenWaitForStdinEofAsync().ConfigureAwait(false);
            Volatile.Write(ref stop, true);
            hog.Join();
            Console.WriteLine("STATS hog");
            return 0;
        }

        if (path is null || transport is not ("shmipc" or "uds" or "spin" or "queue"))
        {
            Console.Error.WriteLine("pingpong-server: need --transport shmipc|uds --socket PATH or --transport spin|queue --file PATH");
            return 2;
        }

        var stats = new EchoStats();
        // SHMIPC_BENCH_ALLOC_TRACE=1: sample this child's allocations by type and thread (GCAllocationTick) and print
        // them to stderr at the end, to find what a "server B/msg" figure is made of. =measured: only between the two
        // ALLOC requests around each measured part (warm-ups, JIT and session set-up left out).
        var traceMode = Environment.GetEnvironmentVariable("SHMIPC_BENCH_ALLOC_TRACE");
        using var allocationTrace = traceMode is "1" or "measured"
            ? new Micro.AllocationTickListener { Recording = traceMode == "1" }
            : null;
        s_measuredTrace = traceMode == "measured" ? allocationTrace : null;
        if (transport == "spin")
        {
            using var layout = SpinLayout.Open(path);
            await ServeAsync(new SpinServer(layout, stats)).ConfigureAwait(false);
        }
        else if (transport == "queue")
        {
            using var layout = QueueFloorLayout.Open(path);
            await ServeAsync(new QueueFloorServer(layout, stats)).ConfigureAwait(false);
        }
        else if (transport == "shmipc")
        {
            // The client creates and lays out a 256-512 MiB region between connecting and announcing it, which can take
            // longer than shmipc's 1-second default handshake timeout on a loaded machine.
            var serverOptions = new ShmipcServerOptions { PollingMode = mode, RunContinuationsOnReactor = onReactor, HandshakeTimeout = TimeSpan.FromSeconds(60) };
            var listener = ShmipcListener.Bind(path, serverOptions);
            await using (listener.ConfigureAwait(false))
            {
                _ = ReportHandshakeFailuresAsync(listener);
                var serving = new ShmipcEchoServer(listener, stats, prefault).RunAsync();
                await ReadyThenWaitForStdinEofAsync().ConfigureAwait(false);
                await listener.DisposeAsync().ConfigureAwait(false);
                await serving.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }
        else
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(512);
            var serving = new UdsEchoServer(listener, stats, synchronous).RunAsync();
            await ReadyThenWaitForStdinEofAsync().ConfigureAwait(false);
            listener.Dispose();
            File.Delete(path);
            await serving.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        if (allocationTrace is not null)
        {
            allocationTrace.Recording = false;
            foreach (var ((type, thread), (events, bytes)) in allocationTrace.Samples.OrderByDescending(x => x.Value.Bytes).Take(15))
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pingpong-server {transport} allocations: {events,6} ticks {bytes,12} B {type} [{thread}]"));
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STATS verified={stats.Verified} mismatches={stats.Mismatches} bytes={stats.Bytes}"));
        return stats.Mismatches == 0 ? 0 : 3;
    }

    /// <summary>A floor's echo thread, from READY until the harness closes stdin.</summary>
    private static async Task ServeAsync(EchoThread server)
    {
        var thread = server.Start();
        await ReadyThenWaitForStdinEofAsync().ConfigureAwait(false);
        server.Stop();
        thread.Join();
    }

    // SHMIPC_BENCH_ALLOC_TRACE=measured: the listener that records only during measured parts.
    private static Micro.AllocationTickListener? s_measuredTrace;

    private static async Task ReportHandshakeFailuresAsync(ShmipcListener listener)
    {
        await foreach (var failure in listener.HandshakeFailures.ReadAllAsync().ConfigureAwait(false))
        {
            Console.Error.WriteLine($"pingpong-server: handshake failed: {failure.Message}");
        }
    }

    private static async Task ReadyThenWaitForStdinEofAsync()
    {
        Console.WriteLine("READY");
        Console.Out.Flush();
        // stdin tells us when the harness is gone (end of file); the one thing it sends is "ALLOC", answered with the bytes
        // this process has allocated so far (all threads), so the harness can show the server's allocations per message.
        using var stdin = new StreamReader(Console.OpenStandardInput());
        while (await stdin.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line == "ALLOC")
            {
                if (s_measuredTrace is { } trace)
                {
                    // The harness asks right before and right after each measured part: odd requests start, even stop.
                    trace.Recording = !trace.Recording;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ALLOC {GC.GetTotalAllocatedBytes(precise: true)}"));
                Console.Out.Flush();
            }
        }
    }
}
