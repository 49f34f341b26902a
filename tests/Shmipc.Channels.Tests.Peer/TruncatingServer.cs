using System.Globalization;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Native = Shmipc.Channels.Interop.Interop;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>hostile-truncate-server --kind buffer|queue</c>: a server that accepts one client, completes a valid handshake
/// and then attacks the client's memory. Memfd clients: it tries to truncate both memfds and reports what the
/// kernel said (<c>TRUNCATE buffer EPERM seals=7</c>). File-mode clients: on the command <c>truncate</c> it truncates
/// the client's buffer file (after queueing a message whose slice is then gone) or queue file, wakes the client, and
/// reports how the client ended the connection.
/// </summary>
internal static unsafe class TruncatingServer
{
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(10);

    public static int Run(PeerArguments args)
    {
        using var listener = SocketFd.ListenUnix(args.SocketPath, 4);
        Console.WriteLine("LISTENING");
        if (Poll.Wait(listener.Handle, Native.POLLIN, Deadline.FromTimeout(IoTimeout)) == 0 || listener.TryAccept() is not { } socket)
        {
            Console.WriteLine("NO-CLIENT");
            return 1;
        }

        using (socket)
        {
            var transport = new SocketHandshakeTransport(socket);
            var announcement = HandshakeServer.ReceiveAnnouncement(transport, IoTimeout, static fd => new SafeFdHandle(fd, ownsHandle: true).Dispose());
            var memfd = announcement.Mode == HandshakeMode.MemFdV3;
            SharedRegion buffer, queue;
            if (memfd)
            {
                var (bufferFd, queueFd) = announcement.TakeFds();
                buffer = SharedRegion.OpenFd(new SafeFdHandle(bufferFd, ownsHandle: true), announcement.BufferPath);
                queue = SharedRegion.OpenFd(new SafeFdHandle(queueFd, ownsHandle: true), announcement.QueuePath);
            }
            else
            {
                buffer = SharedRegion.OpenFile(announcement.BufferPath);
                queue = SharedRegion.OpenFile(announcement.QueuePath);
            }

            using (buffer)
            using (queue)
            {
                var manager = BufferManager.Map(buffer.Base, buffer.Length);
                var queues = IoQueuePair.Map(queue.Base, queue.Length, isCreator: false, QueueLayout.Current);
                HandshakeServer.Acknowledge(transport, announcement);
                Console.WriteLine($"READY {announcement.QueuePath} {(memfd ? "memfd" : "file")}");
                return memfd ? TryTruncateMemFds(buffer, queue) : TruncateFile(args.Kind, socket, announcement.Version, manager, queues, buffer, queue);
            }
        }
    }

    private static int TryTruncateMemFds(SharedRegion buffer, SharedRegion queue)
    {
        foreach (var (what, region) in new[] { ("buffer", buffer), ("queue", queue) })
        {
            var seals = Native.GetSeals(region.FileDescriptor, region.Name);
            var result = Native.Libc.ftruncate(region.FileDescriptor, 0) == 0 ? "OK" : Native.LastErrno == Native.Errno.EPERM ? "EPERM" : $"errno {Native.LastErrno}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"TRUNCATE {what} {result} seals={seals}"));
        }

        // Stay until the test is done with the client (stdin closes).
        _ = Console.ReadLine();
        return 0;
    }

    private static int TruncateFile(string kind, SocketFd socket, byte version, BufferManager manager, IoQueuePair queues, SharedRegion buffer, SharedRegion queue)
    {
        if (kind is not ("buffer" or "queue"))
        {
            throw new ArgumentException($"unknown truncate kind '{kind}' (buffer or queue)");
        }

        if (Console.ReadLine() != "truncate")
        {
            return 2;
        }

        Span<byte> polling = stackalloc byte[ProtocolConstants.HeaderSize];
        HeaderOnlyFrame.Write(polling, version, EventType.Polling);
        if (kind == "buffer")
        {
            // A message to the client's stream 2, queued after its slice has been cut off.
            if (!manager.TryAllocate(64, out var slice))
            {
                throw new InvalidOperationException("the client's region has no free slice");
            }

            var written = System.Text.Encoding.ASCII.GetBytes("truncated under you", manager.GetSliceData(slice));
            manager.SetSliceLength(slice, written);
            Native.FTruncate(buffer.FileDescriptor, 0, buffer.Name);
            if (!queues.SendQueue.TryPut(QueueElement.Data(2, slice)))
            {
                throw new InvalidOperationException("the server → client queue is full");
            }
        }
        else
        {
            Native.FTruncate(queue.FileDescriptor, 0, queue.Name);
        }

        socket.SendAll(polling, IoTimeout);
        Console.WriteLine($"TRUNCATED {kind}");

        // Whatever the client still sends (wake-ups for its messages) is ignored until it hangs up.
        Span<byte> scratch = stackalloc byte[256];
        var deadline = Deadline.FromTimeout(IoTimeout);
        while (true)
        {
            try
            {
                socket.ReceiveExactly(scratch[..1], deadline);
            }
            catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.PeerClosed)
            {
                Console.WriteLine("CLIENT-CLOSED closed");
                return 0;
            }
        }
    }
}
