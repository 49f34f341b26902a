namespace Shmipc.Channels.Protocol;

/// <summary>
/// The blocking socket operations the handshake needs (§3). <c>Shmipc.Channels.Interop.SocketFd</c> implements it
/// directly; tests use an in-memory pair.
/// </summary>
/// <remarks>
/// Contract the handshake relies on:
/// <list type="bullet">
/// <item>Every call completes or throws within <c>timeout</c> (<see cref="Timeout.InfiniteTimeSpan"/> = no limit).
/// A timeout is reported as <see cref="ShmipcException"/> with <see cref="ShmipcErrorCode.Timeout"/> (or a
/// <see cref="TimeoutException"/>); the handshake re-throws it naming the step.</item>
/// <item><see cref="ReceiveExactly"/> throws when the peer closes the connection before the span is full.</item>
/// <item><see cref="ReceiveWithFds"/> performs one <c>recvmsg</c> with a control buffer of
/// <c>CMSG_SPACE(4 * receivedFds.Length)</c> bytes, returns the data bytes received (0 = end of stream), the
/// returned <c>msg_controllen</c> in <c>controlLength</c>, and the number of fds it stored in
/// <c>receivedFds</c> in <c>fdCount</c>; it closes any fd it could not store. The handshake passes a
/// 2-element span, which gives Go's 24-byte control buffer (§2.3).</item>
/// <item><see cref="SendWithFds"/> sends <c>data</c> with one <c>SCM_RIGHTS</c> cmsg carrying <c>fds</c>
/// in order, in a single <c>sendmsg</c>.</item>
/// </list>
/// </remarks>
internal interface IHandshakeTransport
{
    /// <summary>Sends every byte of <paramref name="data"/>.</summary>
    void SendAll(ReadOnlySpan<byte> data, TimeSpan timeout);

    /// <summary>Receives exactly <c>buffer.Length</c> bytes; throws at end of stream.</summary>
    void ReceiveExactly(Span<byte> buffer, TimeSpan timeout);

    /// <summary>One <c>sendmsg</c> of <paramref name="data"/> with an <c>SCM_RIGHTS</c> cmsg carrying <paramref name="fds"/>.</summary>
    void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout);

    /// <summary>One <c>recvmsg</c>; returns the data bytes received (0 at end of stream).</summary>
    int ReceiveWithFds(Span<byte> data, Span<int> receivedFds, out int controlLength, out int fdCount, TimeSpan timeout);
}
