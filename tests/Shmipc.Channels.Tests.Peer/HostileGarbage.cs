using System.Buffers.Binary;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>hostile-garbage --kind K</c>: a valid handshake, then one malformed data-phase frame:
/// <c>bad-magic</c>, <c>handshake-type</c> (type 5 after the handshake), <c>short-fallback</c> (FallbackData of
/// length 10) or <c>huge-length</c> (a FallbackData header announcing 2^31 bytes) or
/// <c>oversized</c> (a FallbackData header one byte above the default maximum frame length).
/// </summary>
internal static class HostileGarbage
{
    public static int Run(PeerArguments args)
    {
        using var raw = RawClientSession.Connect(args.SocketPath);
        Console.WriteLine($"READY {raw.Name} v{raw.Version}");
        raw.Send(CreateFrame(args.Kind, raw.Version));
        Console.WriteLine($"SENT {args.Kind}");
        Console.WriteLine($"SERVER-CLOSED {raw.WaitForServerClose(TimeSpan.FromSeconds(10))}");
        return 0;
    }

    private static byte[] CreateFrame(string kind, byte version)
    {
        switch (kind)
        {
            case "bad-magic":
                return Header(8, 0x1234, version, EventType.Polling, 8);
            case "handshake-type":
                return Header(8, ProtocolConstants.Magic, version, EventType.ShareMemoryByMemfd, 8);
            case "short-fallback":
                // 8-byte header + 2 bytes: the 8-byte (seqID, status) metadata does not fit (Go and Rust panic).
                return Header(10, ProtocolConstants.Magic, version, EventType.FallbackData, 10);
            case "oversized":
                // One byte more than the default MaxFrameLength (64 MiB): what a shmipc-go peer sends for a message of
                // 64 MiB - 15 bytes that does not fit its shared memory. Refused from the header alone.
                var oversized = Header((64u * 1024 * 1024) + 1, ProtocolConstants.Magic, version, EventType.FallbackData, 16);
                BinaryPrimitives.WriteUInt32BigEndian(oversized.AsSpan(8), 2);
                return oversized;
            case "huge-length":
                // Only the header and the metadata: the length alone must be refused, before any body is awaited.
                var frame = Header(1u << 31, ProtocolConstants.Magic, version, EventType.FallbackData, 16);
                BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), 2);
                return frame;
            default:
                throw new ArgumentException($"unknown garbage kind '{kind}' (bad-magic, handshake-type, short-fallback, huge-length, oversized)");
        }
    }

    private static byte[] Header(uint length, ushort magic, byte version, EventType type, int bytesToSend)
    {
        var frame = new byte[bytesToSend];
        new FrameHeader(length, magic, version, type).Write(frame);
        return frame;
    }
}
