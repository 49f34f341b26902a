using Shmipc.Channels.Interop;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>handshake-hang &lt;socket&gt; --kind client|server</c>: a peer that stops in the middle of a v3 handshake and waits
/// to be killed (or for stdin to close), so the other side has a handshake pending at the kill.
/// <list type="bullet">
/// <item><c>client</c>: connects, sends ExchangeProtoVersion, reads the server's reply, says <c>HANDSHAKING</c> and goes
/// silent: the server waits for the memory announcement.</item>
/// <item><c>server</c>: listens (says <c>READY path</c>), accepts one connection, answers ExchangeProtoVersion, reads the
/// client's memory announcement (answering AckReadyRecvFD for memfd), says <c>HANDSHAKING type</c> and never sends
/// AckShareMemory: the client has created and announced its region and waits for the acknowledgement. A v2 file-path
/// announcement (no version exchange, no answer) is read the same way; that client believes it is connected.</item>
/// </list>
/// </summary>
internal static class HandshakeHang
{
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(15);

    public static int Run(PeerArguments args)
    {
        var deadline = HandshakeDeadline.Start(IoTimeout);
        switch (args.Kind)
        {
            case "client":
            {
                using var socket = SocketFd.ConnectUnix(args.SocketPath, IoTimeout);
                var transport = new SocketHandshakeTransport(socket);
                HandshakeIo.SendHeaderOnlyFrame(transport, ProtocolConstants.Version3, EventType.ExchangeProtoVersion, deadline, "send version");
                HandshakeIo.ReceiveHeaderOnlyFrame(transport, EventType.ExchangeProtoVersion, deadline, "receive version", "server");
                Console.WriteLine("HANDSHAKING");
                WaitForStdinToClose();
                return 0;
            }

            case "server":
            {
                using var listener = SocketFd.ListenUnix(args.SocketPath, 4);
                Console.WriteLine($"READY {args.SocketPath}");
                using var socket = AcceptOne(listener);
                var transport = new SocketHandshakeTransport(socket);
                var announcement = HandshakeIo.ReceiveHeader(transport, deadline, "receive version", "client");
                if (announcement.Type == EventType.ExchangeProtoVersion)
                {
                    HandshakeIo.SendHeaderOnlyFrame(transport, ProtocolConstants.Version3, EventType.ExchangeProtoVersion, deadline, "send version");
                    announcement = HandshakeIo.ReceiveHeader(transport, deadline, "receive announcement", "client");
                }

                // else a v2 file-path announcement (file mode's default handshake): it has no answer, so the client is
                // connected and waits for its first frame instead.
                HandshakeIo.SkipBody(transport, announcement, deadline, "skip announcement", "client");
                if (announcement.Type == EventType.ShareMemoryByMemfd)
                {
                    HandshakeIo.SendHeaderOnlyFrame(transport, ProtocolConstants.Version3, EventType.AckReadyRecvFD, deadline, "send AckReadyRecvFD");
                }

                Console.WriteLine($"HANDSHAKING {announcement.Type}");
                WaitForStdinToClose();
                return 0;
            }

            default:
                throw new ArgumentException($"handshake-hang needs --kind client or server, not '{args.Kind}'");
        }
    }

    private static SocketFd AcceptOne(SocketFd listener)
    {
        while (true)
        {
            if (listener.TryAccept() is { } accepted)
            {
                return accepted;
            }

            Poll.Wait(listener.Handle, Interop.Interop.POLLIN, Deadline.FromTimeout(IoTimeout));
        }
    }

    private static void WaitForStdinToClose()
    {
        while (Console.In.ReadLine() is not null)
        {
        }
    }
}
