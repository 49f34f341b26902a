namespace Shmipc.Channels.Tests.Peer;

/// <summary><c>serve</c>: a listener whose sessions echo (or sink) every message on every stream.</summary>
internal static class EchoServer
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        var table = new SessionTable();
        await using var listener = ShmipcListener.Bind(args.SocketPath, new ShmipcServerOptions
        {
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            AllowedClientUserIds = args.AllowUid is { } uid ? [uid] : [],
        });
        Console.WriteLine($"READY {args.SocketPath} mode={(args.Echo ? "echo" : "sink")}");
        var accepting = AcceptAsync(listener, table, args.Echo);
        var failures = ReportHandshakeFailuresAsync(listener);
        await new CommandLoop(table, open: null).RunAsync();

        // stdin closed: dispose the listener (closes every session, removes the socket file), then leave.
        await listener.DisposeAsync();
        await Task.WhenAll(accepting, failures);
        return 0;
    }

    private static async Task AcceptAsync(ShmipcListener listener, SessionTable table, bool echo)
    {
        await foreach (var session in listener.Sessions.ReadAllAsync())
        {
            table.Add(session);
            _ = ServeAsync(session, table, echo);
        }
    }

    private static async Task ServeAsync(ShmipcSession session, SessionTable table, bool echo)
    {
        try
        {
            await foreach (var stream in session.IncomingStreams.ReadAllAsync())
            {
                table.Add(stream);
                _ = StreamEcho.RunAsync(stream, echo);
            }
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // The session failed; SessionTable reports why.
        }
    }

    private static async Task ReportHandshakeFailuresAsync(ShmipcListener listener)
    {
        await foreach (var failure in listener.HandshakeFailures.ReadAllAsync())
        {
            Console.WriteLine($"HANDSHAKE-FAIL {StreamEcho.Describe(failure)}");
        }
    }
}
