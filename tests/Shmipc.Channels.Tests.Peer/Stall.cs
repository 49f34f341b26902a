using System.Globalization;
using System.Text;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>stall [--queue N]</c>: a client that stops reading. A valid handshake, one message on stream 2 through the
/// queue (so the server sees the stream, not in fallback), then it never reads its socket again and takes nothing
/// from its IO queue unless told to: the server's socket buffer and queue fill up. Commands on stdin:
/// <c>drain</c> takes every element the server queued (recycling the slices) and answers <c>DRAINED n</c>.
/// </summary>
internal static class Stall
{
    private const uint StreamId = 2;

    public static async Task<int> RunAsync(PeerArguments args)
    {
        using var raw = RawClientSession.Connect(args.SocketPath, (uint)(args.QueueCapacity ?? 1024));
        var hello = Encoding.ASCII.GetBytes($"hello {StreamId}");
        if (!raw.Manager.TryAllocate(hello.Length, out var slice))
        {
            throw new InvalidOperationException("the fresh region has no free slice");
        }

        hello.CopyTo(raw.Manager.GetSliceData(slice));
        raw.Manager.SetSliceLength(slice, hello.Length);
        raw.Manager.LinkChain([slice]);
        raw.PutAndWake(QueueElement.Data(StreamId, slice));
        Console.WriteLine($"READY {raw.Name} v{raw.Version}");

        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line == "drain")
            {
                var count = 0;
                while (raw.Queues.ReceiveQueue.TryPop(out var element))
                {
                    count++;
                    if (!element.IsClose)
                    {
                        raw.Manager.RecycleChain(element.Offset);
                    }
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DRAINED {count}"));
            }
        }

        return 0;
    }
}
