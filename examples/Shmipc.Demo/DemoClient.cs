using System.Text;
using Shmipc.Channels;

namespace Shmipc.Demo;

/// <summary>
/// The client process: starts the server child, talks to it over shmipc (streams, messages written in place into
/// shared memory, a large chained message), times 64-byte round trips against a plain Unix socket, and shuts down.
/// Each step is one method, so further steps slot in between.
/// </summary>
internal static class DemoClient
{
    private const int Streams = 3;
    private const int MessagesPerStream = 4;
    private const int LargeMessageLength = 200_000;
    private const int WarmUpRoundTrips = 2_000;
    private const int RoundTripCount = 20_000;

    public static async Task<int> RunAsync(PollingMode pollingMode, CancellationToken cancellationToken)
    {
        var setup = DemoSetup.ForRun(Environment.ProcessId, pollingMode);
        Console.WriteLine("Shmipc.NET demo: a client and a server process sharing memory");
        try
        {
            await using var server = await ServerProcess.StartAsync(setup, TimeSpan.FromSeconds(15), cancellationToken);
            Console.WriteLine($"  server process {server.Id} is ready: shmipc on {setup.ShmipcSocket}, plain Unix socket on {setup.UnixSocket}");

            await using (var session = await ConnectAsync(setup, cancellationToken))
            {
                await ExchangeOnStreamsAsync(session, cancellationToken);
                await SendLargeMessageAsync(session, cancellationToken);
                PrintCounters(session);
                await CompareRoundTripsAsync(session, setup, cancellationToken);
                PrintCounters(session);
            }

            await RxStep.RunClientAsync(setup, cancellationToken);

            return await ShutDownAsync(server, setup);
        }
        finally
        {
            // Only matters when the server had to be killed: then nobody removed its socket files.
            setup.DeleteLeftovers();
        }
    }

    private static async Task<ShmipcSession> ConnectAsync(DemoSetup setup, CancellationToken cancellationToken)
    {
        var options = new ShmipcClientOptions
        {
            MemoryMapType = MemoryMapType.MemFd,
            PathPrefix = DemoSetup.SharedMemoryPrefix,
            PollingMode = setup.PollingMode,
        };
        var session = await ShmipcClient.ConnectAsync(setup.ShmipcSocket, options, cancellationToken);
        Console.WriteLine($"  handshake: protocol v{session.ProtocolVersion}, memory shared by memfd, polling mode {setup.PollingMode} (session {session.Name})");
        return session;
    }

    /// <summary>Several streams at once, each: a few messages out (pipelined), the replies back, then close.</summary>
    private static async Task ExchangeOnStreamsAsync(ShmipcSession session, CancellationToken cancellationToken)
    {
        var streams = Enumerable.Range(0, Streams).Select(_ => session.OpenStream()).ToArray();
        var results = await Task.WhenAll(streams.Select(s => ExchangeAsync(s, cancellationToken)));
        foreach (var line in results)
        {
            Console.WriteLine(line);
        }
    }

    private static async Task<string> ExchangeAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        using (stream)
        {
            var sent = new List<string>();
            for (var k = 1; k <= MessagesPerStream; k++)
            {
                var text = $"hello #{k} from stream {stream.Id}";
                var lease = stream.Rent();
                try
                {
                    Encoding.UTF8.GetBytes(text, lease.Writer);       // encoded straight into shared memory
                    await stream.Output.WriteAsync(lease, cancellationToken);
                }
                finally
                {
                    lease.Dispose();                                   // a no-op once the stream owns it
                }

                sent.Add(text);
            }

            var received = new List<string>();
            while (received.Count < sent.Count)
            {
                using var reply = await stream.Input.ReadAsync(cancellationToken);
                received.Add(Encoding.UTF8.GetString(reply.Data));     // decoded straight out of shared memory
            }

            if (!received.SequenceEqual(sent.Select(s => s.ToUpperInvariant())))
            {
                throw new InvalidDataException($"stream {stream.Id}: unexpected replies [{string.Join(", ", received)}].");
            }

            // A shmipc close is final for both directions (the server's loop ends, it can no longer reply), so it
            // comes after the last reply.
            stream.Output.Complete();
            return $"  stream {stream.Id}: {sent.Count} messages out, {received.Count} replies back in order " +
                   $"(\"{sent[0]}\" -> \"{received[0]}\"), then closed";
        }
    }

    /// <summary>One message larger than the largest slice: written slice by slice, it travels as a chain in shared memory.</summary>
    private static async Task SendLargeMessageAsync(ShmipcSession session, CancellationToken cancellationToken)
    {
        var stream = session.OpenStream();
        using (stream)
        {
            var lease = stream.Rent();
            try
            {
                var written = 0;
                while (written < LargeMessageLength)
                {
                    var span = lease.GetSpan();                        // no hint: the rest of this slice, or a new one
                    var n = Math.Min(span.Length, LargeMessageLength - written);
                    for (var i = 0; i < n; i++)
                    {
                        span[i] = (byte)('a' + ((written + i) % 26));
                    }

                    lease.Advance(n);
                    written += n;
                }

                await stream.Output.WriteAsync(lease, cancellationToken);
            }
            finally
            {
                lease.Dispose();
            }

            using var reply = await stream.Input.ReadAsync(cancellationToken);
            var bytes = reply.ToArray();
            var intact = bytes.Length == LargeMessageLength;
            for (var i = 0; intact && i < bytes.Length; i++)
            {
                intact = bytes[i] == (byte)('A' + (i % 26));
            }

            if (!intact)
            {
                throw new InvalidDataException($"stream {stream.Id}: the large reply ({bytes.Length} bytes) is not the upper-cased message.");
            }

            Console.WriteLine($"  stream {stream.Id}: one {LargeMessageLength}-byte message written slice by slice (a chain of slices) -> {bytes.Length}-byte reply, every byte checked");
        }
    }

    private static void PrintCounters(ShmipcSession session) =>
        Console.WriteLine($"  counters: {session.FallbackWriteCount} fallback writes, {session.FallbackReadCount} fallback reads, " +
                          $"{session.SyncEventsSent} sync events sent, {session.SyncEventsReceived} received, {session.ActiveStreamCount} streams open");

    private static async Task CompareRoundTripsAsync(ShmipcSession session, DemoSetup setup, CancellationToken cancellationToken)
    {
        Console.WriteLine($"round trips of one {RoundTrips.MessageLength}-byte message ({RoundTripCount} timed, after {WarmUpRoundTrips} warm-up), same server process:");
        var (shmipc, wakeUps) = await RoundTrips.ShmipcAsync(session, WarmUpRoundTrips, RoundTripCount, cancellationToken);
        var socket = await RoundTrips.UnixSocketAsync(setup.UnixSocket, WarmUpRoundTrips, RoundTripCount, cancellationToken);
        Console.WriteLine(shmipc.Format("shmipc"));
        Console.WriteLine(socket.Format("unix socket"));
        Console.WriteLine($"  unix socket / shmipc: {socket.P50 / shmipc.P50:0.00}x at p50, {socket.Mean / shmipc.Mean:0.00}x on the mean " +
                          $"({wakeUps} of the {WarmUpRoundTrips + RoundTripCount} requests woke a parked server over the socket)");
    }

    private static async Task<int> ShutDownAsync(ServerProcess server, DemoSetup setup)
    {
        var (exitCode, output) = await server.StopAsync(TimeSpan.FromSeconds(10));
        foreach (var line in output)
        {
            Console.WriteLine("  [server] " + line);
        }

        var sockets = setup.Leftovers().ToArray();
        var sharedMemory = DemoSetup.SharedMemoryLeftovers();
        Console.WriteLine($"shutdown: server exited with code {exitCode}; " +
                          (sockets.Length == 0 ? "socket files removed" : $"left behind: {string.Join(", ", sockets)}") + "; " +
                          (sharedMemory.Length == 0 ? "nothing left in /dev/shm" : $"left in /dev/shm: {string.Join(", ", sharedMemory)}"));
        return exitCode == 0 && sockets.Length == 0 && sharedMemory.Length == 0 ? 0 : 1;
    }
}
