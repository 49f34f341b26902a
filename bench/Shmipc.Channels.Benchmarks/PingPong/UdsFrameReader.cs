using System.Buffers.Binary;
using System.Net.Sockets;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The server's reader of length-prefixed frames ([int32 LE length][payload]) that may arrive back to back (one-way
/// streams): one receive buffer, frames are parsed out of it in place, a partial frame is moved to the front.
/// A ping-pong frame that arrives alone still costs one recv.
/// </summary>
internal sealed class UdsFrameReader
{
    private byte[] _buffer = new byte[256 * 1024];
    private int _start;
    private int _end;
    private int _next;

    /// <summary>The payload of the frame returned by the last receive (valid until the next one).</summary>
    public Span<byte> Payload => _buffer.AsSpan(_start + FrameBuffer.PrefixSize, _next - _start - FrameBuffer.PrefixSize);

    /// <summary>Receives the next frame; returns its payload length, or -1 at a clean end of stream.</summary>
    public async ValueTask<int> ReceiveAsync(Socket socket)
    {
        while (true)
        {
            if (TryTake() is var length and >= 0)
            {
                return length;
            }

            var n = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None).ConfigureAwait(false);
            if (Received(n))
            {
                return -1;
            }
        }
    }

    /// <inheritdoc cref="ReceiveAsync"/>
    public int Receive(Socket socket)
    {
        while (true)
        {
            if (TryTake() is var length and >= 0)
            {
                return length;
            }

            if (Received(socket.Receive(_buffer.AsSpan(_end), SocketFlags.None)))
            {
                return -1;
            }
        }
    }

    // -1: need more bytes (and room for them has been made); otherwise the payload length of the frame now current.
    private int TryTake()
    {
        _start = _next;
        if (_start == _end)
        {
            _start = _end = _next = 0;
        }

        var available = _end - _start;
        if (available >= FrameBuffer.PrefixSize)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start));
            if (length < 0)
            {
                throw new InvalidDataException($"negative frame length {length}.");
            }

            var total = FrameBuffer.PrefixSize + length;
            if (available >= total)
            {
                _next = _start + total;
                return length;
            }

            MakeRoom(total);
        }
        else
        {
            MakeRoom(FrameBuffer.PrefixSize);
        }

        _next = _start;
        return -1;
    }

    private void MakeRoom(int frame)
    {
        if (_start + frame <= _buffer.Length && _end < _buffer.Length)
        {
            return;
        }

        var target = frame > _buffer.Length ? new byte[Math.Max(frame, _buffer.Length * 2)] : _buffer;
        _buffer.AsSpan(_start, _end - _start).CopyTo(target);
        _buffer = target;
        _end -= _start;
        _start = 0;
        _next = 0;
    }

    private bool Received(int n)
    {
        if (n == 0)
        {
            return _end == _start ? true : throw new EndOfStreamException($"the peer closed the connection after {_end - _start} bytes of a frame.");
        }

        _end += n;
        return false;
    }
}
