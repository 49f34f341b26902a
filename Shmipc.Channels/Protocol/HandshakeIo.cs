using System.Net.Sockets;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// Transport calls of the handshake, each under the remaining time of the one <see cref="HandshakeDeadline"/>,
/// with every failure turned into a <see cref="ShmipcException"/> that names the step: timeouts keep
/// <see cref="ShmipcErrorCode.Timeout"/>, anything else from the transport (end of stream, socket errors) becomes
/// <see cref="ShmipcErrorCode.HandshakeFailed"/> with the original as inner exception.
/// </summary>
internal static class HandshakeIo
{
    public static void Send(IHandshakeTransport transport, ReadOnlySpan<byte> data, in HandshakeDeadline deadline, string step)
    {
        TimeSpan remaining = deadline.GetRemaining(step);
        try
        {
            transport.SendAll(data, remaining);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw Translate(e, deadline, step);
        }
    }

    public static void Receive(IHandshakeTransport transport, Span<byte> buffer, in HandshakeDeadline deadline, string step)
    {
        TimeSpan remaining = deadline.GetRemaining(step);
        try
        {
            transport.ReceiveExactly(buffer, remaining);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw Translate(e, deadline, step);
        }
    }

    public static void SendWithFds(IHandshakeTransport transport, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, in HandshakeDeadline deadline, string step)
    {
        TimeSpan remaining = deadline.GetRemaining(step);
        try
        {
            transport.SendWithFds(data, fds, remaining);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw Translate(e, deadline, step);
        }
    }

    public static int ReceiveWithFds(
        IHandshakeTransport transport, Span<byte> data, Span<int> fds, out int controlLength, out int fdCount, in HandshakeDeadline deadline, string step)
    {
        TimeSpan remaining = deadline.GetRemaining(step);
        try
        {
            return transport.ReceiveWithFds(data, fds, out controlLength, out fdCount, remaining);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw Translate(e, deadline, step);
        }
    }

    /// <summary>
    /// Reads an 8-byte header and applies the handshake header rules: magic 0x7758 (else HandshakeFailed),
    /// version not 0 (else ProtocolVersion, Go's <c>ErrInvalidVersion</c>), type ≤ 9 (else HandshakeFailed).
    /// </summary>
    public static FrameHeader ReceiveHeader(IHandshakeTransport transport, in HandshakeDeadline deadline, string step, string from)
    {
        Span<byte> bytes = stackalloc byte[ProtocolConstants.HeaderSize];
        Receive(transport, bytes, deadline, step);
        FrameHeader header = FrameHeader.Read(bytes);
        if (!header.HasValidMagic)
        {
            ProtocolThrowHelper.ThrowHandshakeFailed(
                $"handshake step '{step}': frame from {from} has magic 0x{header.Magic:X4}, expected 0x{ProtocolConstants.Magic:X4} (header {Convert.ToHexString(bytes)})");
        }

        if (header.Version == 0)
        {
            ProtocolThrowHelper.ThrowProtocolVersion($"handshake step '{step}': frame from {from} has version 0, which is never valid");
        }

        if (!header.IsKnownType)
        {
            ProtocolThrowHelper.ThrowHandshakeFailed(
                $"handshake step '{step}': frame from {from} has type {(byte)header.Type}, expected 0..{ProtocolConstants.MaxEventType}");
        }

        return header;
    }

    /// <summary>Throws HandshakeFailed unless <paramref name="header"/> is of <paramref name="expected"/> type.</summary>
    public static void ExpectType(FrameHeader header, EventType expected, string step, string from)
    {
        if (header.Type != expected)
        {
            ProtocolThrowHelper.ThrowHandshakeFailed(
                $"handshake step '{step}': expected {expected} (type {(byte)expected}) from {from}, got type {(byte)header.Type} ({header.Type}), length {header.Length}");
        }
    }

    /// <summary>
    /// Completes a header-only frame (types 4, 6, 7): length 8 is normal; a longer frame's body is read and
    /// discarded (§2.1: a .NET peer may defensively skip it), but only up to the handshake bound.
    /// </summary>
    public static void SkipBody(IHandshakeTransport transport, FrameHeader header, in HandshakeDeadline deadline, string step, string from)
    {
        if (header.Length < ProtocolConstants.HeaderSize || header.Length > ProtocolConstants.MaxHandshakeFrameLength)
        {
            ProtocolThrowHelper.ThrowHandshakeFailed(
                $"handshake step '{step}': {header.Type} frame from {from} has length {header.Length}, expected {ProtocolConstants.HeaderSize} (at most {ProtocolConstants.MaxHandshakeFrameLength} tolerated)");
        }

        int bodyLength = (int)header.Length - ProtocolConstants.HeaderSize;
        if (bodyLength > 0)
        {
            Receive(transport, new byte[bodyLength], deadline, step);
        }
    }

    /// <summary>Reads a header-only frame of <paramref name="expected"/> type.</summary>
    public static FrameHeader ReceiveHeaderOnlyFrame(IHandshakeTransport transport, EventType expected, in HandshakeDeadline deadline, string step, string from)
    {
        FrameHeader header = ReceiveHeader(transport, deadline, step, from);
        ExpectType(header, expected, step, from);
        SkipBody(transport, header, deadline, step, from);
        return header;
    }

    /// <summary>Sends a header-only frame.</summary>
    public static void SendHeaderOnlyFrame(IHandshakeTransport transport, byte version, EventType type, in HandshakeDeadline deadline, string step)
    {
        Span<byte> frame = stackalloc byte[ProtocolConstants.HeaderSize];
        HeaderOnlyFrame.Write(frame, version, type);
        Send(transport, frame, deadline, step);
    }

    private static bool IsTransportFailure(Exception e) =>
        e is IOException or SocketException or TimeoutException or ObjectDisposedException;

    private static ShmipcException Translate(Exception e, in HandshakeDeadline deadline, string step)
    {
        if (e is TimeoutException || e is ShmipcException { ErrorCode: ShmipcErrorCode.Timeout })
        {
            return deadline.CreateTimeout(step, e);
        }

        return new ShmipcException(ShmipcErrorCode.HandshakeFailed, $"handshake step '{step}' failed: {e.Message}", e);
    }
}
