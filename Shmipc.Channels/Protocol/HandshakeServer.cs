namespace Shmipc.Channels.Protocol;

/// <summary>
/// The server side of the shmipc handshake (§1.3, §3), in two steps so that AckShareMemory is sent only after
/// the caller has mapped the memory: <see cref="ReceiveAnnouncement"/>, map, then <see cref="Acknowledge"/>.
/// If mapping fails the caller closes the fds and the connection — that is how Go tells the client (§3.4).
/// </summary>
internal static class HandshakeServer
{
    private const string Client = "the client";

    /// <summary>
    /// Reads the client's announcement under one deadline of <paramref name="timeout"/> (shmipc <c>InitializeTimeout</c>).
    /// </summary>
    /// <remarks>
    /// Dispatch is on the version byte of the first header, as in Go: 2 ⇒ the frame must be ShareMemoryByFilePath;
    /// 3 ⇒ it must be ExchangeProtoVersion, answered with exactly 8 bytes (version 3), then ShareMemoryByFilePath or
    /// ShareMemoryByMemfd; for memfd AckReadyRecvFD is sent and one <c>recvmsg</c> must deliver 1 data byte and a
    /// 24-byte control message with at least 2 fds [buffer, queue] (§2.3). Any other version ⇒ ProtocolVersion
    /// (Go never down-negotiates). Announcement lengths are bounded before their body is read (§3.1).
    /// </remarks>
    /// <param name="transport">The accepted connection, still blocking.</param>
    /// <param name="timeout">The whole handshake budget (default 1 s); mapping and <see cref="Acknowledge"/> share it.</param>
    /// <param name="closeFd">Closes one raw fd; used for fds received on a failed handshake and by <see cref="ServerAnnouncement.CloseFds"/>.</param>
    /// <exception cref="ShmipcException">
    /// <see cref="ShmipcErrorCode.Timeout"/>, <see cref="ShmipcErrorCode.ProtocolVersion"/> or
    /// <see cref="ShmipcErrorCode.HandshakeFailed"/>; any fd received before the failure has been closed.
    /// </exception>
    public static ServerAnnouncement ReceiveAnnouncement(IHandshakeTransport transport, TimeSpan timeout, Action<int> closeFd)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(closeFd);
        HandshakeDeadline deadline = HandshakeDeadline.Start(timeout);

        const string FirstStep = "receive first frame";
        FrameHeader first = HandshakeIo.ReceiveHeader(transport, deadline, FirstStep, Client);
        switch (first.Version)
        {
            case ProtocolConstants.Version2:
                if (first.Type != EventType.ShareMemoryByFilePath)
                {
                    ProtocolThrowHelper.ThrowHandshakeFailed(
                        $"handshake step '{FirstStep}': a version-2 client must start with ShareMemoryByFilePath (type 0), got type {(byte)first.Type} ({first.Type})");
                }

                ShareMemoryAnnouncement v2Paths = ReceiveAnnouncementBody(transport, first, deadline, "receive ShareMemoryByFilePath");
                return new ServerAnnouncement(ProtocolConstants.Version2, HandshakeMode.FilePathV2, v2Paths, -1, -1, closeFd, deadline);

            case ProtocolConstants.Version3:
                if (first.Type != EventType.ExchangeProtoVersion)
                {
                    ProtocolThrowHelper.ThrowHandshakeFailed(
                        $"handshake step '{FirstStep}': a version-3 client must start with ExchangeProtoVersion (type 4), got type {(byte)first.Type} ({first.Type})");
                }

                HandshakeIo.SkipBody(transport, first, deadline, FirstStep, Client);
                return ReceiveV3(transport, closeFd, deadline);

            default:
                throw ProtocolThrowHelper.CreateProtocolVersion(
                    $"handshake step '{FirstStep}': the client's first frame has protocol version {first.Version} ({first.Type}); this server supports 2 and 3");
        }
    }

    /// <summary>
    /// Completes the handshake once the memory is mapped: v3 sends AckShareMemory (8 bytes, version 3) within what is
    /// left of the deadline; v2 has no acknowledgement and sends nothing.
    /// </summary>
    public static void Acknowledge(IHandshakeTransport transport, ServerAnnouncement announcement)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(announcement);
        if (announcement.Version >= ProtocolConstants.Version3)
        {
            HandshakeIo.SendHeaderOnlyFrame(
                transport, announcement.Version, EventType.AckShareMemory, announcement.Deadline, "send AckShareMemory");
        }
    }

    private static ServerAnnouncement ReceiveV3(IHandshakeTransport transport, Action<int> closeFd, in HandshakeDeadline deadline)
    {
        // The server's answer always carries its maximum version; the client is 3 here, so min(3, 3) = 3.
        const byte Version = ProtocolConstants.Version3;
        HandshakeIo.SendHeaderOnlyFrame(transport, Version, EventType.ExchangeProtoVersion, deadline, "send ExchangeProtoVersion");

        // Like Go, the second header's version byte is only checked for 0; the session version is already 3.
        const string SecondStep = "receive share-memory announcement";
        FrameHeader second = HandshakeIo.ReceiveHeader(transport, deadline, SecondStep, Client);
        switch (second.Type)
        {
            case EventType.ShareMemoryByFilePath:
                ShareMemoryAnnouncement filePaths = ReceiveAnnouncementBody(transport, second, deadline, "receive ShareMemoryByFilePath");
                return new ServerAnnouncement(Version, HandshakeMode.FilePathV3, filePaths, -1, -1, closeFd, deadline);

            case EventType.ShareMemoryByMemfd:
                ShareMemoryAnnouncement names = ReceiveAnnouncementBody(transport, second, deadline, "receive ShareMemoryByMemfd");
                HandshakeIo.SendHeaderOnlyFrame(transport, Version, EventType.AckReadyRecvFD, deadline, "send AckReadyRecvFD");
                (int bufferFd, int queueFd) = ReceiveFds(transport, closeFd, deadline);
                return new ServerAnnouncement(Version, HandshakeMode.MemFdV3, names, bufferFd, queueFd, closeFd, deadline);

            default:
                throw ProtocolThrowHelper.CreateHandshakeFailed(
                    $"handshake step '{SecondStep}': expected ShareMemoryByMemfd (type 5) or ShareMemoryByFilePath (type 0) from the client, got type {(byte)second.Type} ({second.Type})");
        }
    }

    private static ShareMemoryAnnouncement ReceiveAnnouncementBody(
        IHandshakeTransport transport, FrameHeader header, in HandshakeDeadline deadline, string step)
    {
        // Bound the length before reading: Go allocates whatever the header says (2^31 ⇒ ≈70 MB) or, below 8,
        // waits for a body that never comes (§3.1, Corrections 5).
        if (header.Length < ProtocolConstants.MinShareMemoryFrameLength || header.Length > ProtocolConstants.MaxShareMemoryFrameLength)
        {
            ProtocolThrowHelper.ThrowHandshakeFailed(
                $"handshake step '{step}': {header.Type} frame length {header.Length}, expected {ProtocolConstants.MinShareMemoryFrameLength}..{ProtocolConstants.MaxShareMemoryFrameLength}");
        }

        var body = new byte[header.Length - ProtocolConstants.HeaderSize];
        HandshakeIo.Receive(transport, body, deadline, step);
        try
        {
            return ShareMemoryAnnouncement.ReadBody(body);
        }
        catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.ProtocolViolation)
        {
            throw new ShmipcException(ShmipcErrorCode.HandshakeFailed, $"handshake step '{step}': {e.Message}", e);
        }
    }

    private static (int BufferFd, int QueueFd) ReceiveFds(IHandshakeTransport transport, Action<int> closeFd, in HandshakeDeadline deadline)
    {
        const string Step = "receive fds (SCM_RIGHTS)";
        Span<byte> data = stackalloc byte[1];

        // Two slots = Go's 24-byte control buffer (CMSG_SPACE(2 * 4)). A third fd is dropped by the kernel
        // (MSG_CTRUNC, not checked, as in Go), so a client passing 3 fds is accepted (§2.3, Corrections 3).
        Span<int> fds = stackalloc int[ProtocolConstants.HandshakeFdCount];
        fds.Fill(-1);
        int received = HandshakeIo.ReceiveWithFds(transport, data, fds, out int controlLength, out int fdCount, deadline, Step);
        int stored = Math.Clamp(fdCount, 0, fds.Length);
        try
        {
            if (received != 1)
            {
                ProtocolThrowHelper.ThrowHandshakeFailed(received == 0
                    ? $"handshake step '{Step}': the client closed the connection instead of sending the fds"
                    : $"handshake step '{Step}': received {received} data bytes with the fds, expected exactly 1");
            }

            if (controlLength != ProtocolConstants.HandshakeFdControlLength)
            {
                ProtocolThrowHelper.ThrowHandshakeFailed(
                    $"handshake step '{Step}': control length {controlLength}, expected {ProtocolConstants.HandshakeFdControlLength} (one SCM_RIGHTS message with 2 fds)");
            }

            if (fdCount < ProtocolConstants.HandshakeFdCount)
            {
                ProtocolThrowHelper.ThrowHandshakeFailed(
                    $"handshake step '{Step}': received {fdCount} fd(s), expected {ProtocolConstants.HandshakeFdCount} (buffer region, queue)");
            }

            if (fds[0] < 0 || fds[1] < 0)
            {
                ProtocolThrowHelper.ThrowHandshakeFailed(
                    $"handshake step '{Step}': the transport reported {fdCount} fds but stored [{fds[0]}, {fds[1]}]");
            }
        }
        catch
        {
            for (int i = 0; i < stored; i++)
            {
                if (fds[i] >= 0)
                {
                    closeFd(fds[i]);
                }
            }

            throw;
        }

        return (fds[0], fds[1]);
    }
}
