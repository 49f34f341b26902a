// Property 7 — the frame codec (docs/PROTOCOL.md §1.1, §2, §2.8).
// Invariants: (a) for random versions, stream ids, statuses, epochs and payloads, the Protocol layer's encoders
// (FallbackDataHeader.Write, StreamCloseFrame.Write, HotRestartFrame.Write, HeaderOnlyFrame.Write) produce
// frames that their own Read functions and FrameParser decode back to the same values; handshake header-only
// frames (types 4, 6, 7) are refused by the data-phase parser with ProtocolViolation. (b) Several data-phase
// frames written back to back parse one after another, consuming exactly FrameLength bytes each, and every
// strict prefix of a frame is "need more" with bytesNeeded = 8 (header incomplete) or the frame length.
// (c) For random byte strings (uniform, or with a frame header of plausible or hostile fields), FrameParser
// does exactly what an independent reading of the §1.1/§2.8 rules says — parse, need more, or throw
// ShmipcException(ProtocolViolation) — and never throws anything else; a parsed frame lies inside the input.
using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Properties;

public sealed class FrameCodecProperties
{
    private const ushort Magic = 0x7758;

    [Property(MaxTest = 300, Arbitrary = new[] { typeof(Generators) })]
    public Property Encoded_frames_decode_to_the_same_values(FrameSpec frame)
    {
        byte[] bytes = Encode(frame);
        var parser = new FrameParser();
        if (!frame.IsDataPhase)
        {
            FrameHeader header = HeaderOnlyFrame.Read(bytes, ToEventType(frame.Kind));
            Verify.That(header.Version == frame.Version && header.Length == 8 && header.Type == ToEventType(frame.Kind), $"HeaderOnlyFrame.Read gave {header}");
            ShmipcException? refused = Verify.OnlyThrows(ShmipcErrorCode.ProtocolViolation, () => _ = parser.TryParse(bytes, out _), $"parsing {frame}");
            Verify.That(refused is not null, $"the data-phase parser accepted the handshake frame {frame}");
            return true.Classify(true, "handshake header-only frame");
        }

        Verify.That(parser.TryParse(bytes, out FrameEvent parsed, out int needed) && needed == 0, $"{frame} did not parse (needs {needed})");
        CheckEvent(frame, parsed, bytes);
        switch (frame.Kind)
        {
            case FrameKind.FallbackData:
                FallbackDataHeader metadata = FallbackDataHeader.Read(bytes, out ReadOnlySpan<byte> payload);
                Verify.That(metadata.StreamId == frame.StreamId && metadata.Status == frame.Status && payload.SequenceEqual(frame.Payload), $"FallbackDataHeader.Read gave {metadata}");
                break;
            case FrameKind.StreamClose:
                Verify.That(StreamCloseFrame.Read(bytes) == frame.StreamId, "StreamCloseFrame.Read differs");
                break;
            case FrameKind.HotRestart:
            case FrameKind.HotRestartAck:
                Verify.That(HotRestartFrame.Read(bytes, ToEventType(frame.Kind)) == frame.Epoch, "HotRestartFrame.Read differs");
                break;
            default:
                Verify.That(HeaderOnlyFrame.Read(bytes, EventType.Polling).Version == frame.Version, "HeaderOnlyFrame.Read differs");
                break;
        }

        return true.Classify(true, frame.Kind.ToString());
    }

    [Property(MaxTest = 200, Arbitrary = new[] { typeof(Generators) })]
    public void Back_to_back_frames_parse_in_order_and_prefixes_need_more(FrameSpec[] frames)
    {
        byte[][] encoded = frames.Select(Encode).ToArray();
        byte[] stream = encoded.SelectMany(b => b).ToArray();
        var parser = new FrameParser();
        int position = 0;
        for (int k = 0; k < frames.Length; k++)
        {
            ReadOnlySpan<byte> rest = stream.AsSpan(position);
            Verify.That(parser.TryParse(rest, out FrameEvent parsed) && parsed.FrameLength == encoded[k].Length, $"frame #{k} {frames[k]} did not parse at {position}");
            CheckEvent(frames[k], parsed, rest);
            for (int prefix = 0; prefix < encoded[k].Length; prefix++)
            {
                bool complete = parser.TryParse(rest[..prefix], out _, out int needed);
                int expected = prefix < 8 ? 8 : encoded[k].Length;
                Verify.That(!complete && needed == expected, $"prefix {prefix} of {frames[k]}: ({complete}, needs {needed}), expected need {expected}");
            }

            position += parsed.FrameLength;
        }

        Verify.That(position == stream.Length, $"consumed {position} of {stream.Length} bytes");
    }

    [Property(MaxTest = 1000, Arbitrary = new[] { typeof(Generators) })]
    public Property Random_bytes_parse_exactly_as_the_rules_say(FrameBytesCase input)
    {
        byte[] bytes = input.Bytes;
        var parser = new FrameParser(input.MaxFrameLength);
        (Outcome expected, int expectedLength) = Oracle(bytes, input.MaxFrameLength);
        FrameEvent parsed = default;
        bool complete = false;
        int needed = 0;
        ShmipcException? violation = Verify.OnlyThrows(ShmipcErrorCode.ProtocolViolation, () => complete = parser.TryParse(bytes, out parsed, out needed), $"TryParse({input})");
        Outcome actual = violation is not null ? Outcome.Violation : complete ? Outcome.Parsed : Outcome.NeedMore;
        Verify.That(actual == expected, $"TryParse gave {actual} ({violation?.Message ?? $"length {parsed.FrameLength}, needs {needed}"}), the rules say {expected} ({expectedLength})");
        switch (actual)
        {
            case Outcome.NeedMore:
                Verify.That(needed == expectedLength && needed > bytes.Length, $"needs {needed}, expected {expectedLength}");
                break;
            case Outcome.Parsed:
                Verify.That(parsed.FrameLength == expectedLength && parsed.FrameLength <= bytes.Length && parsed.Version == bytes[6] && (byte)parsed.Type == bytes[7], $"parsed {parsed} from {bytes.Length} bytes");
                CheckFields(parsed, bytes);
                break;
        }

        return true.Classify(true, actual.ToString());
    }

    private enum Outcome
    {
        Parsed,
        NeedMore,
        Violation,
    }

    /// <summary>The §1.1/§2.8 data-phase rules, written independently of FrameParser.</summary>
    private static (Outcome Outcome, int Length) Oracle(byte[] bytes, int maxFrameLength)
    {
        if (bytes.Length < 8)
        {
            return (Outcome.NeedMore, 8);
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        if (BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(4)) != Magic || bytes[6] == 0)
        {
            return (Outcome.Violation, 0);
        }

        bool valid = bytes[7] switch
        {
            1 => length == 8,
            2 => length == 12,
            3 => length >= 16 && length <= (uint)maxFrameLength,
            8 or 9 => length == 16,
            _ => false,
        };
        return !valid ? (Outcome.Violation, 0)
            : bytes.Length < length ? (Outcome.NeedMore, (int)length)
            : (Outcome.Parsed, (int)length);
    }

    /// <summary>The fields of a parsed event are the big-endian values at their §2 offsets.</summary>
    private static void CheckFields(FrameEvent parsed, byte[] bytes)
    {
        switch (parsed.Type)
        {
            case EventType.StreamClose:
                Verify.That(parsed.StreamId == BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8)), $"StreamClose id {parsed.StreamId}");
                break;
            case EventType.FallbackData:
                Verify.That(
                    parsed.StreamId == BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8))
                    && parsed.Status == BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(12))
                    && parsed.PayloadOffset == 16
                    && parsed.PayloadLength == parsed.FrameLength - 16
                    && parsed.GetPayload(bytes).SequenceEqual(bytes.AsSpan(16, parsed.FrameLength - 16)),
                    $"FallbackData fields of {parsed}");
                break;
            case EventType.HotRestart:
            case EventType.HotRestartAck:
                Verify.That(parsed.Epoch == BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8)), $"epoch {parsed.Epoch}");
                break;
        }
    }

    private static void CheckEvent(FrameSpec frame, FrameEvent parsed, ReadOnlySpan<byte> buffer)
    {
        bool same = parsed.Type == ToEventType(frame.Kind) && parsed.Version == frame.Version && frame.Kind switch
        {
            FrameKind.StreamClose => parsed.StreamId == frame.StreamId && parsed.FrameLength == 12,
            FrameKind.FallbackData => parsed.StreamId == frame.StreamId && parsed.Status == frame.Status && parsed.StreamState == (byte)frame.Status
                && parsed.FrameLength == 16 + frame.Payload.Length && parsed.GetPayload(buffer).SequenceEqual(frame.Payload),
            FrameKind.HotRestart or FrameKind.HotRestartAck => parsed.Epoch == frame.Epoch && parsed.FrameLength == 16,
            _ => parsed.FrameLength == 8,
        };
        Verify.That(same, $"{frame} parsed as {parsed}");
    }

    private static byte[] Encode(FrameSpec frame)
    {
        int length = frame.Kind switch
        {
            FrameKind.FallbackData => FallbackDataHeader.GetFrameLength(frame.Payload.Length),
            FrameKind.StreamClose => 12,
            FrameKind.HotRestart or FrameKind.HotRestartAck => 16,
            _ => 8,
        };
        var bytes = new byte[length];
        int written = frame.Kind switch
        {
            FrameKind.FallbackData => FallbackDataHeader.Write(bytes, frame.Version, frame.StreamId, frame.Status, frame.Payload),
            FrameKind.StreamClose => StreamCloseFrame.Write(bytes, frame.Version, frame.StreamId),
            FrameKind.HotRestart or FrameKind.HotRestartAck => HotRestartFrame.Write(bytes, frame.Version, ToEventType(frame.Kind), frame.Epoch),
            _ => HeaderOnlyFrame.Write(bytes, frame.Version, ToEventType(frame.Kind)),
        };
        Verify.That(written == length, $"{frame}: the encoder wrote {written} bytes, expected {length}");
        Verify.That(BinaryPrimitives.ReadUInt32BigEndian(bytes) == (uint)length && BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(4)) == Magic && bytes[6] == frame.Version && bytes[7] == (byte)ToEventType(frame.Kind), $"{frame}: header bytes {Convert.ToHexString(bytes.AsSpan(0, 8))}");
        return bytes;
    }

    private static EventType ToEventType(FrameKind kind) => kind switch
    {
        FrameKind.Polling => EventType.Polling,
        FrameKind.StreamClose => EventType.StreamClose,
        FrameKind.FallbackData => EventType.FallbackData,
        FrameKind.HotRestart => EventType.HotRestart,
        FrameKind.HotRestartAck => EventType.HotRestartAck,
        FrameKind.ExchangeProtoVersion => EventType.ExchangeProtoVersion,
        FrameKind.AckShareMemory => EventType.AckShareMemory,
        _ => EventType.AckReadyRecvFD,
    };
}
