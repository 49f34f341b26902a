using Shmipc.Channels;
using Shmipc.Channels.Protocol;

namespace Shmipc.Fuzz;

/// <summary>
/// A handshake transport whose peer is a fixed byte string: receives take the next bytes of it, sends are dropped, and
/// fds are numbers handed out and tracked here, so the handshake runs without a socket, a timer or a real fd.
/// </summary>
/// <remarks>
/// <para>Running out of bytes behaves like the socket at end of stream (<see cref="ShmipcErrorCode.PeerClosed"/>), so a
/// truncated input never blocks.</para>
/// <para>The <c>recvmsg</c> that carries the fds (§2.3) consumes up to the requested data bytes, and the first of them
/// also chooses what the "kernel" delivers: 0 (what Go sends) gives the normal message, 2 fds with a 24-byte control
/// length. Any other value gives <c>b &amp; 3</c> fds (3 = one more than the buffer holds: the kernel stores 2 and
/// closes the third), and when bit 2 is set a control length of <c>b &gt;&gt; 3</c> instead of the one that matches.
/// That reaches every check of the server's fd step from ordinary bytes.</para>
/// </remarks>
internal sealed class ScriptedHandshakeTransport : IHandshakeTransport
{
    // Well above anything a fuzz process opens itself: an fd from here is never a real one.
    private const int FirstFakeFd = 1_000_000;

    private readonly byte[] _input;
    private readonly HashSet<int> _openFds = [];
    private int _position;
    private int _nextFd = FirstFakeFd;

    public ScriptedHandshakeTransport(ReadOnlySpan<byte> input)
    {
        _input = input.ToArray();
    }

    /// <summary>Fds handed to the handshake and not closed through <see cref="CloseFd"/>.</summary>
    public int OpenFdCount => _openFds.Count;

    /// <summary>The close delegate given to the handshake: closing an fd twice, or one never handed out, is a bug.</summary>
    public void CloseFd(int fd)
    {
        if (!_openFds.Remove(fd))
        {
            throw new FuzzContractException($"the handshake closed fd {fd}, which is not open (closed twice, or never received)");
        }
    }

    public void SendAll(ReadOnlySpan<byte> data, TimeSpan timeout)
    {
    }

    public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout)
    {
    }

    public void ReceiveExactly(Span<byte> buffer, TimeSpan timeout)
    {
        int available = _input.Length - _position;
        if (available < buffer.Length)
        {
            _position = _input.Length;
            throw new ShmipcException(
                ShmipcErrorCode.PeerClosed, $"scripted peer: end of input after {available} of {buffer.Length} bytes");
        }

        _input.AsSpan(_position, buffer.Length).CopyTo(buffer);
        _position += buffer.Length;
    }

    public int ReceiveWithFds(Span<byte> data, Span<int> receivedFds, out int controlLength, out int fdCount, TimeSpan timeout)
    {
        controlLength = 0;
        fdCount = 0;
        int count = Math.Min(data.Length, _input.Length - _position);
        if (count == 0)
        {
            return 0;
        }

        _input.AsSpan(_position, count).CopyTo(data);
        _position += count;

        byte shape = data[0];
        int sent = shape == 0 ? 2 : shape & 3;
        fdCount = Math.Min(sent, receivedFds.Length);
        for (int i = 0; i < fdCount; i++)
        {
            receivedFds[i] = _nextFd;
            _openFds.Add(_nextFd++);
        }

        // CMSG_SPACE(4 * n) on x86-64: a 16-byte cmsghdr plus the fds rounded up to 8 bytes; none at all is 0.
        int matching = fdCount == 0 ? 0 : 16 + (((4 * fdCount) + 7) / 8 * 8);
        controlLength = shape != 0 && (shape & 4) != 0 ? shape >> 3 : matching;
        return count;
    }
}
