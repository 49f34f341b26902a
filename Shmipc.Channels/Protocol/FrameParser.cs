using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// Parses data-phase frames (§2.8) from the front of a receive buffer, one at a time, without allocating.
/// </summary>
/// <remarks>
/// <para>Rules (§1.1, §2, §2.8), each violation a <see cref="ShmipcErrorCode.ProtocolViolation"/> that closes the session:
/// magic 0x7758; version not 0 (any other version is accepted — Go never compares it after the handshake);
/// type ≤ 9 and one of the data-phase types 1, 2, 3, 8, 9 (0, 4, 5, 6, 7 belong to the handshake);
/// Polling exactly 8 bytes, StreamClose exactly 12, HotRestart/HotRestartAck exactly 16, FallbackData at least 16
/// (Go and Rust panic below that); no frame longer than <see cref="MaxFrameLength"/> (Go buffers without bound).</para>
/// <para>Lengths are checked from the header alone, before waiting for the body, so a hostile length never makes
/// the receive buffer grow. HotRestart from a client or HotRestartAck from a server is returned like any other
/// frame: which role may receive which is the session's decision (§14.16).</para>
/// <para>Usage: <c>while (parser.TryParse(buffer.Readable, out var e)) { handle(e, buffer.Readable); buffer.Consume(e.FrameLength); }</c></para>
/// </remarks>
internal sealed class FrameParser
{
    /// <param name="maxFrameLength">Largest accepted frame, header included; at least 16 so every fixed-size frame fits.</param>
    public FrameParser(int maxFrameLength = ProtocolConstants.DefaultMaxFrameLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, ProtocolConstants.HotRestartFrameLength);
        MaxFrameLength = maxFrameLength;
    }

    public int MaxFrameLength { get; }

    /// <summary>Parses the frame at the start of <paramref name="buffer"/>; false when it is not complete yet.</summary>
    public bool TryParse(ReadOnlySpan<byte> buffer, out FrameEvent frameEvent) => TryParse(buffer, out frameEvent, out _);

    /// <summary>
    /// Parses the frame at the start of <paramref name="buffer"/>. Returns false ("need more bytes") when the header
    /// or the body is incomplete; <paramref name="bytesNeeded"/> is then the total number of bytes the buffer must
    /// hold for the next step (8 for a partial header, the frame length once the header is known), otherwise 0.
    /// Nothing is consumed: the caller consumes <see cref="FrameEvent.FrameLength"/> bytes after handling the event.
    /// </summary>
    /// <exception cref="ShmipcException"><see cref="ShmipcErrorCode.ProtocolViolation"/>: the frame breaks a data-phase rule.</exception>
    public bool TryParse(ReadOnlySpan<byte> buffer, out FrameEvent frameEvent, out int bytesNeeded)
    {
        frameEvent = default;
        if (!FrameHeader.TryRead(buffer, out FrameHeader header))
        {
            bytesNeeded = ProtocolConstants.HeaderSize;
            return false;
        }

        int length = ValidateHeader(header);
        if (buffer.Length < length)
        {
            bytesNeeded = length;
            return false;
        }

        bytesNeeded = 0;
        frameEvent = header.Type switch
        {
            EventType.Polling => FrameEvent.Polling(header.Version),
            EventType.StreamClose => FrameEvent.StreamClose(header.Version, BinaryPrimitives.ReadUInt32BigEndian(buffer[ProtocolConstants.HeaderSize..])),
            EventType.FallbackData => FrameEvent.FallbackData(header.Version, length, FallbackDataHeader.ReadMetadata(buffer)),
            _ => FrameEvent.HotRestart(header.Type, header.Version, BinaryPrimitives.ReadUInt64BigEndian(buffer[ProtocolConstants.HeaderSize..])),
        };
        return true;
    }

    /// <summary>Applies every data-phase header rule and returns the frame length.</summary>
    private int ValidateHeader(FrameHeader header)
    {
        if (!header.HasValidMagic)
        {
            ThrowViolation(header, $"magic 0x{header.Magic:X4}, expected 0x{ProtocolConstants.Magic:X4}");
        }

        if (header.Version == 0)
        {
            ThrowViolation(header, "version 0 is never valid");
        }

        int expectedLength;
        switch (header.Type)
        {
            case EventType.Polling:
                expectedLength = ProtocolConstants.HeaderSize;
                break;
            case EventType.StreamClose:
                expectedLength = ProtocolConstants.StreamCloseFrameLength;
                break;
            case EventType.HotRestart:
            case EventType.HotRestartAck:
                expectedLength = ProtocolConstants.HotRestartFrameLength;
                break;
            case EventType.FallbackData:
                if (header.Length < ProtocolConstants.FallbackDataHeaderLength)
                {
                    ThrowViolation(header, $"length {header.Length}, expected at least {ProtocolConstants.FallbackDataHeaderLength} (seqID + status)");
                }

                if (header.Length > (uint)MaxFrameLength)
                {
                    ThrowViolation(header, $"length {header.Length} exceeds the maximum frame length {MaxFrameLength} (MaxFrameLength; the sender must send smaller messages or this side must accept larger frames)");
                }

                return (int)header.Length;
            case <= (EventType)ProtocolConstants.MaxEventType:
                ThrowViolation(header, $"type {(byte)header.Type} ({header.Type}) is a handshake frame, not allowed in the data phase (1, 2, 3, 8, 9 are)");
                return 0;
            default:
                ThrowViolation(header, $"type {(byte)header.Type}, expected 0..{ProtocolConstants.MaxEventType}");
                return 0;
        }

        if (header.Length != (uint)expectedLength)
        {
            ThrowViolation(header, $"length {header.Length}, expected exactly {expectedLength}");
        }

        return expectedLength;
    }

    [DoesNotReturn]
    private static void ThrowViolation(FrameHeader header, string what) =>
        throw ProtocolThrowHelper.CreateProtocolViolation($"data-phase frame ({header}): {what}");
}
