using System.Net;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>serve</c>: a listener (Unix socket, or TCP with --tcp) whose sessions echo (sink, hold, flood or ignore, see --mode) every message on every stream.
/// Sessions that end other than by a local close are reported as <c>SESSION-FAIL</c> lines.
/// </summary>
internal static class EchoServer
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        var table = new SessionTable();
        await using var listener = args.Tcp
            ? ShmipcListener.BindTcp(IPEndPoint.Parse(args.SocketPath), args.CreateServerOptions())
            : ShmipcListener.Bind(args.SocketPath, args.CreateServerOptions());
        Console.WriteLine($"READY {(args.Tcp ? listener.LocalEndPoint : args.SocketPath)} mode={args.Mode}");
        var accepting = AcceptAsync(listener, table, args.Mode);
        var failures = ReportHandshakeFailuresAsync(listener);
        var sessionFailures = ReportSessionFailuresAsync(listener);
        await new CommandLoop(table, open: null).RunAsync();

        // stdin closed: dispose the listener (closes every session, removes the socket file), then leave.
        await listener.DisposeAsync();
        await Task.WhenAll(accepting, failures, sessionFailures);
        return 0;
    }

    private static async Task AcceptAsync(ShmipcListener listener, SessionTable table, string mode)
    {
        await foreach (var session in listener.Sessions.ReadAllAsync())
        {
            table.Add(session);
            _ = ServeAsync(session, table, mode);
        }
    }

    private static async Task ServeAsync(ShmipcSession session, SessionTable table, string mode)
    {
        try
        {
            await foreach (var stream in session.IncomingStreams.ReadAllAsync())
            {
                table.Add(stream);
                if (mode == "ignore")
                {
                    Console.WriteLine($"HOLDING {session.Name} {stream.Id}");
                    continue;
                }

                _ = mode switch
                {
                    "hold" => StreamHold.RunAsync(stream),
                    "flood" => StreamFlood.RunAsync(stream),
                    _ => StreamEcho.RunAsync(stream, mode == "echo"),
                };
            }
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // The session failed; SessionTable reports why.
        }
    }

    private static async Task ReportSessionFailuresAsync(ShmipcListener listener)
    {
        await foreach (var failure in listener.SessionFailures.ReadAllAsync())
        {
            Console.WriteLine($"SESSION-FAIL {StreamEcho.Describe(failure)}");
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
