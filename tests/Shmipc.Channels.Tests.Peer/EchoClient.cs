using System.Net;
using System.Text;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>connect</c>: a client session (Unix socket, or TCP with --tcp) that opens streams on command (only clients open streams in shmipc), greets on
/// each so the server sees it, and then echoes whatever the server sends.
/// </summary>
internal static class EchoClient
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        var table = new SessionTable();
        await using var session = args.Tcp
            ? await ShmipcClient.ConnectTcpAsync(IPEndPoint.Parse(args.SocketPath), args.CreateClientOptions())
            : await ShmipcClient.ConnectAsync(args.SocketPath, args.CreateClientOptions());
        table.Add(session);
        Console.WriteLine($"READY {session.Name} {args.Prefix}");
        await new CommandLoop(table, count => OpenAsync(session, table, count)).RunAsync();
        return 0;
    }

    private static async Task OpenAsync(ShmipcSession session, SessionTable table, int count)
    {
        var ids = new List<uint>();
        for (var i = 0; i < count; i++)
        {
            var stream = session.OpenStream();
            table.Add(stream);

            // Nothing goes on the wire until the first message; the greeting makes the stream appear on the server.
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"hello {stream.Id}"));
            _ = StreamEcho.RunAsync(stream, echo: true);
            ids.Add(stream.Id);
        }

        Console.WriteLine($"OPENED {session.Name} {string.Join(',', ids)}");
    }
}
