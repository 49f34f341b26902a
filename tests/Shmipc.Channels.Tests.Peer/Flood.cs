using System.Diagnostics;
using System.Globalization;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>flood</c>: a client that writes <c>--size</c>-byte messages on one stream as fast as <c>Output.WriteAsync</c>
/// allows for <c>--seconds</c>, then reports <c>FLOOD written=… seconds=… ended=…</c> (ended=deadline, or the error
/// that stopped it: a write that waited longer than the write timeout).
/// </summary>
internal static class Flood
{
    public static async Task<int> RunAsync(PeerArguments args)
    {
        await using var session = await ShmipcClient.ConnectAsync(args.SocketPath, args.CreateClientOptions());
        Console.WriteLine($"READY {session.Name} {args.Prefix}");
        var stream = session.OpenStream();
        var payload = PayloadPattern.Create(args.Size, 1);
        var clock = Stopwatch.StartNew();
        long written = 0;
        var ended = "deadline";
        try
        {
            while (clock.Elapsed.TotalSeconds < args.Seconds)
            {
                await stream.WriteAsync(payload);
                written++;
            }
        }
        catch (Exception e) when (e is ShmipcException or System.Threading.Channels.ChannelClosedException)
        {
            ended = StreamEcho.Describe(e.InnerException as ShmipcException ?? e);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FLOOD written={written} seconds={clock.Elapsed.TotalSeconds:0.0} ended={ended}"));
        return 0;
    }
}
