using System.Buffers.Binary;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// <see cref="EventType.StreamClose"/> (2), §2.5: exactly 12 bytes, header + u32 BE stream id. Sent only when
/// the close element did not fit into the shared-memory queue.
/// </summary>
internal static class StreamCloseFrame
{
    /// <summary>Writes the 12-byte frame and returns its length.</summary>
    public static int Write(Span<byte> destination, byte version, uint streamId)
    {
        if (destination.Length < ProtocolConstants.StreamCloseFrameLength)
        {
            ProtocolThrowHelper.ThrowDestinationTooSmall(ProtocolConstants.StreamCloseFrameLength, destination.Length);
        }

        new FrameHeader(ProtocolConstants.StreamCloseFrameLength, version, EventType.StreamClose).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[ProtocolConstants.HeaderSize..], streamId);
        return ProtocolConstants.StreamCloseFrameLength;
    }

    /// <summary>Decodes a whole frame (length must be exactly 12) and returns the stream id.</summary>
    public static uint Read(ReadOnlySpan<byte> frame)
    {
        FrameHeader header = FrameHeader.Read(frame);
        header.ValidateFixedFrame(EventType.StreamClose, ProtocolConstants.StreamCloseFrameLength);
        if (frame.Length < ProtocolConstants.StreamCloseFrameLength)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"StreamClose frame: {frame.Length} bytes given, expected {ProtocolConstants.StreamCloseFrameLength}");
        }

        return BinaryPrimitives.ReadUInt32BigEndian(frame[ProtocolConstants.HeaderSize..]);
    }
}
