namespace Shmipc.Channels.Properties;

/// <summary>The frames the Protocol layer's encoders write (docs/PROTOCOL.md §2).</summary>
public enum FrameKind
{
    Polling,
    StreamClose,
    FallbackData,
    HotRestart,
    HotRestartAck,

    /// <summary>Handshake header-only frames: encoded and decoded by HeaderOnlyFrame, refused by the data-phase parser.</summary>
    ExchangeProtoVersion,
    AckShareMemory,
    AckReadyRecvFD,
}
