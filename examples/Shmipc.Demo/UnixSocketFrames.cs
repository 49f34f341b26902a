using System.Net.Sockets;

namespace Shmipc.Demo;

/// <summary>Fixed-size frames over a plain stream socket: the baseline the round-trip figure is compared with.</summary>
internal static class UnixSocketFrames
{
    /// <summary>Fills <paramref name="frame"/>; false when the peer closed the connection before its first byte.</summary>
    public static async ValueTask<bool> ReceiveAsync(Socket socket, Memory<byte> frame, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < frame.Length)
        {
            var n = await socket.ReceiveAsync(frame[filled..], SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return filled == 0 ? false : throw new EndOfStreamException($"the peer closed the connection after {filled} of {frame.Length} bytes.");
            }

            filled += n;
        }

        return true;
    }

    public static async ValueTask SendAsync(Socket socket, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        while (!frame.IsEmpty)
        {
            var n = await socket.SendAsync(frame, SocketFlags.None, cancellationToken);
            frame = frame[n..];
        }
    }
}
