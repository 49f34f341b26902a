namespace Shmipc.Channels.Protocol;

/// <summary>
/// One data-phase frame parsed by <see cref="FrameParser"/>: Polling, StreamClose(id), FallbackData(id, status,
/// payload), HotRestart(epoch) or HotRestartAck(epoch). Fields that a type does not carry are 0.
/// </summary>
/// <remarks>
/// The FallbackData payload is not copied: <see cref="PayloadOffset"/>/<see cref="PayloadLength"/> locate it in the
/// span given to <see cref="FrameParser.TryParse(ReadOnlySpan{byte}, out FrameEvent, out int)"/>, valid until the
/// caller consumes <see cref="FrameLength"/> bytes and refills that buffer.
/// </remarks>
internal readonly struct FrameEvent
{
    private FrameEvent(EventType type, byte version, int frameLength, uint streamId, uint status, ulong epoch, int payloadOffset, int payloadLength)
    {
        Type = type;
        Version = version;
        FrameLength = frameLength;
        StreamId = streamId;
        Status = status;
        Epoch = epoch;
        PayloadOffset = payloadOffset;
        PayloadLength = payloadLength;
    }

    public EventType Type { get; }

    /// <summary>The header's version byte; informative only — any non-zero value is accepted in the data phase (§1.1).</summary>
    public byte Version { get; }

    /// <summary>Bytes this frame occupies at the start of the parsed span; consume exactly this many.</summary>
    public int FrameLength { get; }

    /// <summary>StreamClose and FallbackData: the stream id (FallbackData's seqID).</summary>
    public uint StreamId { get; }

    /// <summary>FallbackData: the status word as sent.</summary>
    public uint Status { get; }

    /// <summary>FallbackData: the stream state, the low 8 bits of <see cref="Status"/> (§2.6).</summary>
    public byte StreamState => (byte)Status;

    /// <summary>HotRestart and HotRestartAck: the epoch.</summary>
    public ulong Epoch { get; }

    /// <summary>FallbackData: offset of the payload in the parsed span (16).</summary>
    public int PayloadOffset { get; }

    /// <summary>FallbackData: payload length, <c>length - 16</c>.</summary>
    public int PayloadLength { get; }

    /// <summary>The FallbackData payload inside <paramref name="parsedBuffer"/>, the same span that was parsed.</summary>
    public ReadOnlySpan<byte> GetPayload(ReadOnlySpan<byte> parsedBuffer) => parsedBuffer.Slice(PayloadOffset, PayloadLength);

    internal static FrameEvent Polling(byte version) =>
        new(EventType.Polling, version, ProtocolConstants.HeaderSize, 0, 0, 0, 0, 0);

    internal static FrameEvent StreamClose(byte version, uint streamId) =>
        new(EventType.StreamClose, version, ProtocolConstants.StreamCloseFrameLength, streamId, 0, 0, 0, 0);

    internal static FrameEvent FallbackData(byte version, int frameLength, FallbackDataHeader metadata) =>
        new(EventType.FallbackData, version, frameLength, metadata.StreamId, metadata.Status, 0,
            ProtocolConstants.FallbackDataHeaderLength, frameLength - ProtocolConstants.FallbackDataHeaderLength);

    internal static FrameEvent HotRestart(EventType type, byte version, ulong epoch) =>
        new(type, version, ProtocolConstants.HotRestartFrameLength, 0, 0, epoch, 0, 0);

    public override string ToString() => Type switch
    {
        EventType.StreamClose => $"StreamClose(stream {StreamId}) v{Version}",
        EventType.FallbackData => $"FallbackData(stream {StreamId}, status {Status}, {PayloadLength} bytes) v{Version}",
        EventType.HotRestart or EventType.HotRestartAck => $"{Type}(epoch {Epoch}) v{Version}",
        _ => $"{Type} v{Version}",
    };
}
