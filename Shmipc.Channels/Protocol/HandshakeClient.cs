namespace Shmipc.Channels.Protocol;

/// <summary>The client side of the shmipc handshake (§3.1–§3.3): announces the shared memory the client created.</summary>
internal static class HandshakeClient
{
    private const string Server = "the server";

    /// <summary>
    /// Runs the whole handshake under one deadline of <paramref name="timeout"/> (shmipc <c>InitializeTimeout</c>,
    /// default 1 s) and returns the negotiated protocol version (2 or 3).
    /// </summary>
    /// <remarks>
    /// <para>v2 (<see cref="HandshakeMode.FilePathV2"/>): one ShareMemoryByFilePath frame with version 2; no reply exists,
    /// so success only means the bytes were sent — the server may still fail to open the files (§3.1).</para>
    /// <para>v3: ExchangeProtoVersion (exactly 8 bytes, §2.1), the server's ExchangeProtoVersion, version = min(3, server).
    /// Then ShareMemoryByMemfd + AckReadyRecvFD + <c>sendmsg</c>(1 byte 0x00, SCM_RIGHTS [buffer fd, queue fd]) for
    /// memfd, or ShareMemoryByFilePath for files; then AckShareMemory, which tells that the server mapped the memory.</para>
    /// <para>If the server answers version 2: file mode falls back to the v2 announcement exactly as Go does; memfd mode
    /// fails, because Go's fallback would send memfd names as file paths (§1.3, §14.11).</para>
    /// </remarks>
    /// <exception cref="ShmipcException">
    /// <see cref="ShmipcErrorCode.Timeout"/> when the deadline passes; <see cref="ShmipcErrorCode.ProtocolVersion"/> for a
    /// version-0 reply; <see cref="ShmipcErrorCode.HandshakeFailed"/> for anything else (wrong frame, closed connection).
    /// </exception>
    public static int Run(IHandshakeTransport transport, ClientHandshakeRequest request, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(request);
        var announcement = new ShareMemoryAnnouncement(request.QueuePath, request.BufferPath);
        _ = announcement.GetFrameLength(); // validate the paths before any I/O
        HandshakeDeadline deadline = HandshakeDeadline.Start(timeout);

        switch (request.Mode)
        {
            case HandshakeMode.FilePathV2:
                SendAnnouncement(transport, announcement, ProtocolConstants.Version2, EventType.ShareMemoryByFilePath, deadline);
                return ProtocolConstants.Version2;
            case HandshakeMode.FilePathV3:
            case HandshakeMode.MemFdV3:
                return RunV3(transport, request, announcement, deadline);
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.Mode, "Unknown handshake mode.");
        }
    }

    private static int RunV3(IHandshakeTransport transport, ClientHandshakeRequest request, ShareMemoryAnnouncement announcement, in HandshakeDeadline deadline)
    {
        HandshakeIo.SendHeaderOnlyFrame(
            transport, ProtocolConstants.MaxSupportedVersion, EventType.ExchangeProtoVersion, deadline, "send ExchangeProtoVersion");

        const string ReplyStep = "receive ExchangeProtoVersion";
        FrameHeader reply = HandshakeIo.ReceiveHeaderOnlyFrame(transport, EventType.ExchangeProtoVersion, deadline, ReplyStep, Server);
        byte version = Math.Min(ProtocolConstants.MaxSupportedVersion, reply.Version);
        if (version < ProtocolConstants.Version3)
        {
            if (request.Mode == HandshakeMode.MemFdV3)
            {
                ProtocolThrowHelper.ThrowHandshakeFailed(
                    $"handshake step '{ReplyStep}': the server speaks protocol version {reply.Version}; memfd sharing needs version 3 (use file paths with this server)");
            }

            if (version < ProtocolConstants.Version2)
            {
                ProtocolThrowHelper.ThrowProtocolVersion(
                    $"handshake step '{ReplyStep}': the server speaks protocol version {reply.Version}; versions 2 and 3 are supported");
            }

            // Go's client does the same: a v2 server gets the v2 announcement, and no acknowledgement follows.
            SendAnnouncement(transport, announcement, ProtocolConstants.Version2, EventType.ShareMemoryByFilePath, deadline);
            return ProtocolConstants.Version2;
        }

        if (request.Mode == HandshakeMode.MemFdV3)
        {
            SendAnnouncement(transport, announcement, version, EventType.ShareMemoryByMemfd, deadline);
            HandshakeIo.ReceiveHeaderOnlyFrame(transport, EventType.AckReadyRecvFD, deadline, "receive AckReadyRecvFD", Server);

            // Exactly one data byte: a zero-byte sendmsg carries no fds on a stream socket, and the server consumes
            // exactly one byte with the fds (more would be parsed as a frame header), §2.3.
            ReadOnlySpan<byte> dummy = [0];
            ReadOnlySpan<int> fds = [request.BufferFd, request.QueueFd];
            HandshakeIo.SendWithFds(transport, dummy, fds, deadline, "send fds (SCM_RIGHTS [buffer, queue])");
        }
        else
        {
            SendAnnouncement(transport, announcement, version, EventType.ShareMemoryByFilePath, deadline);
        }

        HandshakeIo.ReceiveHeaderOnlyFrame(transport, EventType.AckShareMemory, deadline, "receive AckShareMemory", Server);
        return version;
    }

    private static void SendAnnouncement(
        IHandshakeTransport transport, ShareMemoryAnnouncement announcement, byte version, EventType type, in HandshakeDeadline deadline)
    {
        var frame = new byte[announcement.GetFrameLength()];
        announcement.Write(frame, version, type);
        HandshakeIo.Send(transport, frame, deadline, $"send {type}");
    }
}
