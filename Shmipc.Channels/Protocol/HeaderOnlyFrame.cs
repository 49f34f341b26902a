namespace Shmipc.Channels.Protocol;

/// <summary>
/// Frames that are a bare 8-byte header: <see cref="EventType.Polling"/> (1), <see cref="EventType.ExchangeProtoVersion"/> (4,
/// the version is header byte 6 — there is no JSON, §2.1), <see cref="EventType.AckShareMemory"/> (6) and
/// <see cref="EventType.AckReadyRecvFD"/> (7).
/// </summary>
internal static class HeaderOnlyFrame
{
    /// <summary>Writes the 8-byte frame and returns its length (8).</summary>
    public static int Write(Span<byte> destination, byte version, EventType type)
    {
        if (!IsHeaderOnly(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Only types 1, 4, 6 and 7 are header-only frames.");
        }

        new FrameHeader(ProtocolConstants.HeaderSize, version, type).Write(destination);
        return ProtocolConstants.HeaderSize;
    }

    /// <summary>Decodes an 8-byte frame of <paramref name="expectedType"/> and returns its header (the version is the payload).</summary>
    public static FrameHeader Read(ReadOnlySpan<byte> frame, EventType expectedType)
    {
        if (!IsHeaderOnly(expectedType))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedType), expectedType, "Only types 1, 4, 6 and 7 are header-only frames.");
        }

        FrameHeader header = FrameHeader.Read(frame);
        header.ValidateFixedFrame(expectedType, ProtocolConstants.HeaderSize);
        return header;
    }

    public static bool IsHeaderOnly(EventType type) =>
        type is EventType.Polling or EventType.ExchangeProtoVersion or EventType.AckShareMemory or EventType.AckReadyRecvFD;
}
