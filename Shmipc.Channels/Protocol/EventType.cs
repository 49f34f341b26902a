namespace Shmipc.Channels.Protocol;

/// <summary>Frame type codes, byte 7 of the header; names follow shmipc-go's <c>type*</c> constants (§2).</summary>
internal enum EventType : byte
{
    /// <summary>Handshake, C→S: queue path and buffer path (<c>typeShareMemoryByFilePath</c>).</summary>
    ShareMemoryByFilePath = 0,

    /// <summary>Data phase, both ways: "look at your receive queue", header only (<c>typePolling</c>, spec SyncEvent).</summary>
    Polling = 1,

    /// <summary>Data phase, both ways: u32 stream id, sent when the close element did not fit the queue.</summary>
    StreamClose = 2,

    /// <summary>Data phase, both ways: u32 seqID, u32 status, payload that did not fit in shared memory.</summary>
    FallbackData = 3,

    /// <summary>Handshake v3, C→S then S→C: header only, the version lives in header byte 6 (§2.1).</summary>
    ExchangeProtoVersion = 4,

    /// <summary>Handshake v3, C→S: queue and buffer names; the fds follow with SCM_RIGHTS (§2.3).</summary>
    ShareMemoryByMemfd = 5,

    /// <summary>Handshake v3, S→C: the server has mapped the memory.</summary>
    AckShareMemory = 6,

    /// <summary>Handshake v3 memfd, S→C: the server is ready for the SCM_RIGHTS message.</summary>
    AckReadyRecvFD = 7,

    /// <summary>Data phase, S→C: u64 epoch; the server is being replaced (§8).</summary>
    HotRestart = 8,

    /// <summary>Data phase, C→S: u64 epoch; the client has moved to the new server (§8).</summary>
    HotRestartAck = 9,
}
