using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>shrink --memfd|--file --kind buffer|queue --prefix P</c>: a client whose memory can shrink, as a shmipc-go client's
/// can (memfds without seals, or /dev/shm files). It sends one message on stream 2, waits for the command
/// <c>shrink</c>, then truncates its buffer region (and sends a second message whose slice is now gone) or its queue
/// (and wakes the server), and reports how the server ended the connection.
/// </summary>
internal static class ShrinkClient
{
    private const uint StreamId = 2;

    public static int Run(PeerArguments args)
    {
        if (args.Kind is not ("buffer" or "queue"))
        {
            throw new ArgumentException($"unknown shrink kind '{args.Kind}' (buffer or queue)");
        }

        using var raw = RawClientSession.Connect(args.SocketPath, args.MemoryMapType, seal: false, args.Prefix);
        Console.WriteLine($"READY {raw.Name} v{raw.Version}");
        raw.PutAndWake(QueueElement.Data(StreamId, raw.WriteMessage("before the shrink")));
        Console.WriteLine("SENT before the shrink");

        if (Console.ReadLine() != "shrink")
        {
            return 2;
        }

        // The second message is written while its slice still exists; only the queue element follows the truncation.
        var second = raw.WriteMessage("after the shrink");
        var region = args.Kind == "buffer" ? raw.BufferRegion : raw.QueueRegion;
        Native.FTruncate(region.FileDescriptor, 0, region.Name);
        if (args.Kind == "buffer")
        {
            raw.PutAndWake(QueueElement.Data(StreamId, second));
        }
        else
        {
            raw.SendPolling();
        }

        Console.WriteLine($"SHRUNK {args.Kind}");
        Console.WriteLine($"SERVER-CLOSED {raw.WaitForServerClose(TimeSpan.FromSeconds(10))}");
        return 0;
    }
}
