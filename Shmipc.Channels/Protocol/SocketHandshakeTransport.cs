using Shmipc.Channels.Interop;

namespace Shmipc.Channels.Protocol;

/// <summary>The handshake's transport over a real socket (blocking with deadlines, fds via SCM_RIGHTS).</summary>
internal sealed class SocketHandshakeTransport(SocketFd socket) : IHandshakeTransport
{
    public void SendAll(ReadOnlySpan<byte> data, TimeSpan timeout) => socket.SendAll(data, timeout);

    public void ReceiveExactly(Span<byte> buffer, TimeSpan timeout) => socket.ReceiveExactly(buffer, timeout);

    public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout) =>
        socket.SendWithFds(data, fds, timeout);

    public int ReceiveWithFds(Span<byte> data, Span<int> receivedFds, out int controlLength, out int fdCount, TimeSpan timeout) =>
        socket.ReceiveWithFds(data, receivedFds, out controlLength, out fdCount, timeout);
}
