using System.Buffers.Binary;
using System.Net.Sockets;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// Length-prefixed frames over a plain .NET <see cref="Socket"/> (AF_UNIX stream): [int32 LE payload length][payload].
/// Receiving reads greedily into the frame buffer, so a small frame costs one recv, like one read of the shmipc queue.
/// </summary>
internal static class UdsFraming
{
    /// <summary>Receives one frame into <paramref name="buffer"/>; returns the payload length, or -1 at a clean end of stream.</summary>
    public static async ValueTask<int> ReceiveAsync(Socket socket, FrameBuffer buffer)
    {
        var got = 0;
        var total = -1;
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer.Array.AsMemory(got, (total < 0 ? buffer.Array.Length : total) - got), SocketFlags.None).ConfigureAwait(false);
            if (Advance(buffer, n, ref got, ref total) is var done and not 0)
            {
                return done < 0 ? -1 : total - FrameBuffer.PrefixSize;
            }
        }
    }

    /// <inheritdoc cref="ReceiveAsync"/>
    public static int Receive(Socket socket, FrameBuffer buffer)
    {
        var got = 0;
        var total = -1;
        while (true)
        {
            var n = socket.Receive(buffer.Array.AsSpan(got, (total < 0 ? buffer.Array.Length : total) - got), SocketFlags.None);
            if (Advance(buffer, n, ref got, ref total) is var done and not 0)
            {
                return done < 0 ? -1 : total - FrameBuffer.PrefixSize;
            }
        }
    }

    public static async ValueTask SendAsync(Socket socket, ReadOnlyMemory<byte> frame)
    {
        while (!frame.IsEmpty)
        {
            var n = await socket.SendAsync(frame, SocketFlags.None).ConfigureAwait(false);
            frame = frame[n..];
        }
    }

    public static void Send(Socket socket, ReadOnlySpan<byte> frame)
    {
        while (!frame.IsEmpty)
        {
            var n = socket.Send(frame, SocketFlags.None);
            frame = frame[n..];
        }
    }

    /// <summary>Writes the length prefix of a <paramref name="payloadLength"/>-byte payload at the start of <paramref name="buffer"/>.</summary>
    public static void WritePrefix(FrameBuffer buffer, int payloadLength)
    {
        buffer.Ensure(FrameBuffer.PrefixSize + payloadLength, 0);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.Array, payloadLength);
    }

    // 0: need more bytes; 1: frame complete; -1: clean end of stream before a frame started.
    private static int Advance(FrameBuffer buffer, int n, ref int got, ref int total)
    {
        if (n == 0)
        {
            return got == 0 ? -1 : throw new EndOfStreamException($"the peer closed the connection after {got} bytes of a frame.");
        }

        got += n;
        if (total < 0 && got >= FrameBuffer.PrefixSize)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.Array);
            if (length < 0)
            {
                throw new InvalidDataException($"negative frame length {length}.");
            }

            total = FrameBuffer.PrefixSize + length;
            buffer.Ensure(total, got);
        }

        if (total >= 0 && got > total)
        {
            throw new InvalidDataException($"received {got} bytes for a {total}-byte frame: ping-pong never has two frames in flight.");
        }

        return total >= 0 && got == total ? 1 : 0;
    }
}
