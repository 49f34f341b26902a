using System.Net;
using System.Text;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>connect</c>: a client session (Unix socket, or TCP with --tcp) that opens streams on command (only clients open streams in shmipc), greets on
/// each so the server sees it, and then echoes whatever the server sends (or, with <c>--mode hold</c>, keeps it).
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
        var hold = args.Mode == "hold";
        await new CommandLoop(table, count => OpenAsync(session, table, count, hold)).RunAsync();
        return 0;
    }

    /// <summary>Opens and greets <paramref name="count"/> streams; each echoes, or with <paramref name="hold"/> keeps every message (<see cref="StreamHold"/>).</summary>
    private static async Task OpenAsync(ShmipcSession session, SessionTable table, int count, bool hold)
    {
        var ids = new List<uint>();
        for (var i = 0; i < count; i++)
        {
            var stream = session.OpenStream();
            table.Add(stream);

            // Nothing goes on the wire until the first message; the greeting makes the stream appear on the server.
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"hello {stream.Id}"));
            _ = hold ? StreamHold.RunAsync(stream) : StreamEcho.RunAsync(stream, echo: true);
            ids.Add(stream.Id);
        }

        Console.WriteLine($"OPENED {session.Name} {string.Join(',', ids)}");
    }
}
