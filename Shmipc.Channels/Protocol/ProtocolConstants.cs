namespace Shmipc.Channels.Protocol;

/// <summary>Wire constants of the shmipc connection protocol (docs/PROTOCOL.md §1, §2, §9.2).</summary>
internal static class ProtocolConstants
{
    /// <summary>Frame magic, bytes <c>77 58</c> at offset 4 of every header (§1.1).</summary>
    public const ushort Magic = 0x7758;

    /// <summary>Size of the frame header; <c>length</c> includes it (§1.1).</summary>
    public const int HeaderSize = 8;

    /// <summary>Protocol v2: file paths, no acknowledgements; the Go client's default (§1.3).</summary>
    public const byte Version2 = 2;

    /// <summary>Protocol v3: version exchange, memfd or file paths, acknowledgements (§1.3).</summary>
    public const byte Version3 = 3;

    /// <summary>The highest version this implementation speaks (Go <c>maxSupportProtoVersion</c>).</summary>
    public const byte MaxSupportedVersion = Version3;

    /// <summary>Highest event type code; larger codes are <c>ErrInvalidMsgType</c> (§1.1).</summary>
    public const byte MaxEventType = 9;

    /// <summary>
    /// Set in the version byte of a Polling frame by which a Shmipc.NET peer says "I deliver fallback frames and order-
    /// tagged queue elements in write order" (see Sessions/FallbackOrder). shmipc-go and shmipc-rs accept any non-zero
    /// version in the data phase and treat the frame as an ordinary (spurious, harmless) wake-up.
    /// </summary>
    public const byte OrderedFallbackVersionBit = 0x80;

    /// <summary>
    /// Longest path or memfd name accepted in a share-memory announcement. Go-generated names are at most
    /// 255 bytes (§9.2 "file name max"); 4096 is PATH_MAX and leaves room for other clients while keeping the
    /// announcement frame small enough to bound before its body is read (§3.1, Corrections 5).
    /// </summary>
    public const int MaxPathLength = 4096;

    /// <summary>Smallest well-formed announcement frame: header + two u16 lengths (§2.2).</summary>
    public const int MinShareMemoryFrameLength = HeaderSize + 2 + 2;

    /// <summary>Largest announcement frame accepted: header + two u16-prefixed paths of <see cref="MaxPathLength"/>.</summary>
    public const int MaxShareMemoryFrameLength = HeaderSize + 2 + MaxPathLength + 2 + MaxPathLength;

    /// <summary>
    /// Upper bound for any handshake frame, checked before its body is read. Go does not bound it, so a
    /// length of 2^31 makes it allocate before failing (§3.1); we refuse instead.
    /// </summary>
    public const int MaxHandshakeFrameLength = MaxShareMemoryFrameLength;

    /// <summary>StreamClose: header + u32 BE stream id (§2.5).</summary>
    public const int StreamCloseFrameLength = HeaderSize + 4;

    /// <summary>FallbackData: header + u32 BE seqID + u32 BE status, then the payload (§2.6).</summary>
    public const int FallbackDataHeaderLength = HeaderSize + 4 + 4;

    /// <summary>HotRestart and HotRestartAck: header + u64 BE epoch (§2.7).</summary>
    public const int HotRestartFrameLength = HeaderSize + 8;

    /// <summary>
    /// Default bound on one data-phase frame. Go grows its read buffer without limit and Rust asserts at
    /// 32 MiB (§2.8); a frame above the bound is a protocol violation rather than unbounded buffering.
    /// </summary>
    public const int DefaultMaxFrameLength = 64 * 1024 * 1024;

    /// <summary>fds passed with SCM_RIGHTS in a v3 memfd handshake: [0] buffer region, [1] queue (§2.3).</summary>
    public const int HandshakeFdCount = 2;

    /// <summary>
    /// The control length Go requires from the fd-carrying <c>recvmsg</c>: <c>CMSG_SPACE(2 * 4)</c> on 64-bit
    /// Linux (§2.3). One fd gives the same value (<c>CMSG_SPACE(4)</c> rounds up to 24), hence the fd count check.
    /// </summary>
    public const int HandshakeFdControlLength = 24;

    /// <summary>shmipc <c>InitializeTimeout</c> default in milliseconds: the whole handshake, each side (§3, §9.1).</summary>
    public const int DefaultInitializeTimeoutMilliseconds = 1000;

    /// <summary><see cref="DefaultInitializeTimeoutMilliseconds"/> as a <see cref="TimeSpan"/>.</summary>
    public static TimeSpan DefaultInitializeTimeout => TimeSpan.FromMilliseconds(DefaultInitializeTimeoutMilliseconds);
}
