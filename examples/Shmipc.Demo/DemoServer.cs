using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Shmipc.Channels;

namespace Shmipc.Demo;

/// <summary>
/// The server process (<c>Shmipc.Demo server SHMIPC_SOCKET UNIX_SOCKET POLLING_MODE</c>): answers every shmipc message and every
/// 64-byte Unix-socket frame with its upper-cased copy. Prints READY once both sockets listen, and stops when its
/// standard input closes (the parent closes it, or dies).
/// </summary>
internal static class DemoServer
{
    public const string ReadyLine = "READY";

    public const int SocketFrameLength = 64;

    public static async Task<int> RunAsync(string shmipcSocket, string unixSocket, PollingMode pollingMode)
    {
        // A terminal's Ctrl+C reaches the whole process group. The parent handles it and closes our stdin, which is
        // what stops us cleanly; dying here at once would leave the socket files behind. SIGTERM stops us the same way.
        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, static context => context.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopRequested.TrySetResult();
        });

        using var stop = new CancellationTokenSource();
        var counters = new ServerCounters();
        await using var listener = ShmipcListener.Bind(shmipcSocket, new ShmipcServerOptions { PollingMode = pollingMode });
        await using var rxListener = ShmipcListener.Bind(DemoSetup.RxSocketFor(shmipcSocket), new ShmipcServerOptions { PollingMode = pollingMode });
        using var socketListener = BindUnixSocket(unixSocket);
        var shmipcServing = ServeShmipcAsync(listener, counters, stop.Token);
        var rxServing = RxStep.ServeAsync(rxListener, stop.Token);
        var socketServing = ServeUnixSocketAsync(socketListener, counters, stop.Token);

        Console.WriteLine(ReadyLine);
        await Task.WhenAny(WaitForStandardInputToCloseAsync(), stopRequested.Task);

        await stop.CancelAsync();
        await listener.DisposeAsync();          // closes the sessions and deletes the socket file (idempotent)
        await rxListener.DisposeAsync();
        socketListener.Dispose();
        File.Delete(unixSocket);                // a Unix socket file outlives its socket
        await Task.WhenAll(shmipcServing, rxServing, socketServing).WaitAsync(TimeSpan.FromSeconds(5));

        Console.WriteLine(counters.ToString());
        return 0;
    }

    private static Socket BindUnixSocket(string path)
    {
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();
        return socket;
    }

    private static Task WaitForStandardInputToCloseAsync() =>
        Task.Factory.StartNew(
            static () =>
            {
                // Blocking reads on a dedicated thread: stdin is a pipe with no useful async read on Linux.
                using var stdin = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (stdin.Read(buffer) > 0)
                {
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private static async Task ServeShmipcAsync(ShmipcListener listener, ServerCounters counters, CancellationToken cancellationToken)
    {
        var sessions = new List<Task>();
        try
        {
            await foreach (var session in listener.Sessions.ReadAllAsync(cancellationToken))
            {
                counters.SessionAccepted();
                sessions.Add(ServeSessionAsync(session, counters, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(sessions);
    }

    private static async Task ServeSessionAsync(ShmipcSession session, ServerCounters counters, CancellationToken cancellationToken)
    {
        var streams = new List<Task>();
        await using (session)
        {
            try
            {
                // A stream shows up here when its first message arrives.
                await foreach (var stream in session.IncomingStreams.ReadAllAsync(cancellationToken))
                {
                    counters.StreamAccepted();
                    streams.Add(ServeStreamAsync(stream, counters, cancellationToken));
                }
            }
            catch (Exception e) when (e is ChannelClosedException or ShmipcException or OperationCanceledException)
            {
                // The client went away (or we are stopping): that ends the session.
            }

            await Task.WhenAll(streams);
            counters.SessionEnded(session.FallbackReadCount);
        }
    }

    private static async Task ServeStreamAsync(ShmipcStream stream, ServerCounters counters, CancellationToken cancellationToken)
    {
        await using (stream)
        {
            try
            {
                await foreach (var msg in stream.Input.ReadAllAsync(cancellationToken))
                {
                    using (msg)
                    {
                        // Read straight out of shared memory, write the reply straight into it.
                        var reply = stream.Rent();
                        try
                        {
                            Uppercase.Copy(msg.Data, reply.Writer);
                            await stream.Output.WriteAsync(reply, cancellationToken);
                        }
                        finally
                        {
                            reply.Dispose();   // a no-op once the stream owns it
                        }
                    }

                    counters.MessageAnswered();
                }
            }
            catch (Exception e) when (e is ChannelClosedException or ShmipcException or OperationCanceledException)
            {
                // The session closed under the stream; the session loop reports nothing more either.
            }
        }
    }

    private static async Task ServeUnixSocketAsync(Socket listener, ServerCounters counters, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var connection = await listener.AcceptAsync(cancellationToken);
                counters.SocketAccepted();
                connections.Add(EchoUppercaseAsync(connection, counters, cancellationToken));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(connections);
    }

    private static async Task EchoUppercaseAsync(Socket connection, ServerCounters counters, CancellationToken cancellationToken)
    {
        using (connection)
        {
            var frame = new byte[SocketFrameLength];
            try
            {
                while (await UnixSocketFrames.ReceiveAsync(connection, frame, cancellationToken))
                {
                    Uppercase.InPlace(frame);
                    await UnixSocketFrames.SendAsync(connection, frame, cancellationToken);
                    counters.SocketMessageAnswered();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        }
    }
}
