using System.Buffers.Binary;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// <see cref="EventType.HotRestart"/> (8, S→C) and <see cref="EventType.HotRestartAck"/> (9, C→S), §2.7:
/// exactly 16 bytes, header + u64 BE epoch. The spec calls the ack empty; Go sends the epoch and the old
/// server only counts an ack whose epoch matches its own (§8.2).
/// </summary>
internal static class HotRestartFrame
{
    /// <summary>Writes a 16-byte frame of <paramref name="type"/> 8 or 9 and returns its length.</summary>
    public static int Write(Span<byte> destination, byte version, EventType type, ulong epoch)
    {
        if (type is not (EventType.HotRestart or EventType.HotRestartAck))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "A hot-restart frame is type 8 or 9.");
        }

        if (destination.Length < ProtocolConstants.HotRestartFrameLength)
        {
            ProtocolThrowHelper.ThrowDestinationTooSmall(ProtocolConstants.HotRestartFrameLength, destination.Length);
        }

        new FrameHeader(ProtocolConstants.HotRestartFrameLength, version, type).Write(destination);
        BinaryPrimitives.WriteUInt64BigEndian(destination[ProtocolConstants.HeaderSize..], epoch);
        return ProtocolConstants.HotRestartFrameLength;
    }

    /// <summary>Decodes a whole frame of <paramref name="expectedType"/> (length exactly 16) and returns the epoch.</summary>
    public static ulong Read(ReadOnlySpan<byte> frame, EventType expectedType)
    {
        if (expectedType is not (EventType.HotRestart or EventType.HotRestartAck))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedType), expectedType, "A hot-restart frame is type 8 or 9.");
        }

        FrameHeader header = FrameHeader.Read(frame);
        header.ValidateFixedFrame(expectedType, ProtocolConstants.HotRestartFrameLength);
        if (frame.Length < ProtocolConstants.HotRestartFrameLength)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"{expectedType} frame: {frame.Length} bytes given, expected {ProtocolConstants.HotRestartFrameLength}");
        }

        return BinaryPrimitives.ReadUInt64BigEndian(frame[ProtocolConstants.HeaderSize..]);
    }
}
