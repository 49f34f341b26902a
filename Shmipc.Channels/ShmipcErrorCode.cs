namespace Shmipc.Channels;

/// <summary>What went wrong, in the terms of the shmipc protocol (the Go names are given where one exists).</summary>
public enum ShmipcErrorCode
{
    /// <summary>No more specific code applies.</summary>
    Unknown = 0,

    /// <summary>A system call failed; <see cref="ShmipcException.Errno"/> holds the errno.</summary>
    OperatingSystem,

    /// <summary>The options are invalid (shmipc-go <c>VerifyConfig</c> rules).</summary>
    InvalidConfiguration,

    /// <summary>The platform is not Linux on x64 or arm64 (<c>ErrOSNonSupported</c>, <c>ErrArchNonSupported</c>).</summary>
    PlatformNotSupported,

    /// <summary>The peer speaks a protocol version this library does not (<c>ErrInvalidVersion</c>).</summary>
    ProtocolVersion,

    /// <summary>The peer sent a malformed frame, or one not allowed at this point (<c>ErrInvalidMsgType</c>).</summary>
    ProtocolViolation,

    /// <summary>The handshake failed: bad frame, wrong order, bad fds or paths, or the peer could not map the memory.</summary>
    HandshakeFailed,

    /// <summary>A deadline passed (<c>ErrTimeout</c>, <c>ErrConnectionWriteTimeout</c>).</summary>
    Timeout,

    /// <summary>
    /// Shared memory contents from the peer are invalid: an offset, slice header or chain out of bounds, or memory the
    /// peer truncated under this process's mapping.
    /// </summary>
    CorruptSharedMemory,

    /// <summary>No free slice of the size asked for (<c>ErrNoMoreBuffer</c>).</summary>
    NoMoreBuffer,

    /// <summary>The IO queue to the peer is full (<c>ErrQueueFull</c>).</summary>
    QueueFull,

    /// <summary>The session is closed or closing (<c>ErrSessionShutdown</c>).</summary>
    SessionClosed,

    /// <summary>The peer closed the connection, or the connection broke.</summary>
    PeerClosed,

    /// <summary>The stream is closed (<c>ErrStreamClosed</c>).</summary>
    StreamClosed,

    /// <summary>Every stream id is in use (<c>ErrStreamsExhausted</c>).</summary>
    StreamsExhausted,

    /// <summary>The peer aborted the stream and gave a reason.</summary>
    StreamAborted,

    /// <summary>
    /// The peer is not allowed: it runs as a user the options do not accept, or it named shared memory that is not its
    /// own (owned by another user, or already in use by another session).
    /// </summary>
    PeerNotAuthorized,

    /// <summary>
    /// A message is too large for the socket path (fallback): it would need a frame above
    /// <see cref="ShmipcOptions.MaxFrameLength"/>. The message was not sent; the session and stream stay usable.
    /// </summary>
    MessageTooLarge,
}
