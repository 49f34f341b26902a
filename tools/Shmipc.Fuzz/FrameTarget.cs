using System.Text;
using Shmipc.Channels;
using Shmipc.Channels.Protocol;

namespace Shmipc.Fuzz;

/// <summary>
/// Fuzz target <c>frame</c>: the data-phase frame parser (<c>FrameParser</c>, as the session's receive loop drives it)
/// and the standalone frame decoders (StreamClose, FallbackData, HotRestart/HotRestartAck, header-only frames).
/// </summary>
/// <remarks>
/// <para>Contract: every input either parses or is rejected with a <see cref="ShmipcException"/>. Any other exception
/// escapes, and so does a <see cref="FuzzContractException"/> when a parsed frame breaks an invariant the session
/// relies on: a frame fits in the bytes given and its payload fits in the frame; "need more bytes" asks for more than
/// is buffered (otherwise the receive loop would wait forever) and never more than the maximum frame length.</para>
/// <para>The input is parsed twice: at once, as a buffer that already holds every byte, and fed through a
/// <c>ReceiveBuffer</c> in chunks of 1 to 7 bytes, so partial headers, partial bodies, compaction and growth are
/// covered. Both must produce the same frames and end the same way: a difference means the parser depends on how
/// the socket happened to split the stream.</para>
/// </remarks>
public static class FrameTarget
{
    // Small, so the maximum-length rule is reachable from short inputs; the session's default (64 MiB) only moves
    // the bound.
    private const int MaxFrameLength = 4096;

    /// <summary>Runs the target on one input.</summary>
    /// <param name="input">The bytes a peer sent after the handshake.</param>
    public static void Run(ReadOnlySpan<byte> input)
    {
        var parser = new FrameParser(MaxFrameLength);
        string whole = ParseWhole(parser, input);
        string chunked = ParseChunked(parser, input);
        if (!string.Equals(whole, chunked, StringComparison.Ordinal))
        {
            throw new FuzzContractException(
                $"the parser's result depends on how the bytes arrive:\nat once:   {whole}\nin chunks: {chunked}");
        }

        RunDecoders(input);
    }

    private static string ParseWhole(FrameParser parser, ReadOnlySpan<byte> input)
    {
        var log = new StringBuilder();
        try
        {
            ReadOnlySpan<byte> rest = input;
            int needed;
            while (parser.TryParse(rest, out FrameEvent frame, out needed))
            {
                Record(log, frame, rest);
                rest = rest[frame.FrameLength..];
            }

            CheckNeeded(parser, rest.Length, needed);
            return log.Append("end").ToString();
        }
        catch (ShmipcException e)
        {
            return log.Append("rejected: ").Append(e.Message).ToString();
        }
    }

    private static string ParseChunked(FrameParser parser, ReadOnlySpan<byte> input)
    {
        var log = new StringBuilder();
        using var buffer = new ReceiveBuffer(initialCapacity: 16, shrinkThreshold: 64);
        try
        {
            int offset = 0;
            int chunk = 1;
            while (offset < input.Length)
            {
                int count = Math.Min(chunk, input.Length - offset);
                input.Slice(offset, count).CopyTo(buffer.GetWriteSpan(count));
                buffer.Advance(count);
                offset += count;
                chunk = (chunk % 7) + 1;

                int needed;
                while (parser.TryParse(buffer.Readable, out FrameEvent frame, out needed))
                {
                    Record(log, frame, buffer.Readable);
                    buffer.Consume(frame.FrameLength);
                }

                CheckNeeded(parser, buffer.ReadableLength, needed);
            }

            return log.Append("end").ToString();
        }
        catch (ShmipcException e)
        {
            return log.Append("rejected: ").Append(e.Message).ToString();
        }
    }

    private static void Record(StringBuilder log, in FrameEvent frame, ReadOnlySpan<byte> buffered)
    {
        if (frame.FrameLength < ProtocolConstants.HeaderSize || frame.FrameLength > buffered.Length)
        {
            throw new FuzzContractException($"{frame}: frame length {frame.FrameLength} outside [8, {buffered.Length}] (the bytes buffered)");
        }

        if (frame.PayloadOffset < 0 || frame.PayloadLength < 0 || frame.PayloadOffset + frame.PayloadLength > frame.FrameLength)
        {
            throw new FuzzContractException($"{frame}: payload [{frame.PayloadOffset}, +{frame.PayloadLength}) outside the {frame.FrameLength}-byte frame");
        }

        ReadOnlySpan<byte> payload = frame.GetPayload(buffered);
        log.Append(frame).Append(" payload ").Append(Convert.ToHexString(payload)).Append("; ");
    }

    private static void CheckNeeded(FrameParser parser, int buffered, int needed)
    {
        // After "need more bytes" the receive loop reads until `needed` bytes are buffered: it must be more than it
        // has (or it spins) and within the maximum frame length (or a hostile header sizes the buffer).
        if (needed <= buffered || needed > parser.MaxFrameLength)
        {
            throw new FuzzContractException($"need-more-bytes asks for {needed} bytes with {buffered} buffered (maximum frame {parser.MaxFrameLength})");
        }
    }

    private static void RunDecoders(ReadOnlySpan<byte> input)
    {
        try
        {
            _ = StreamCloseFrame.Read(input);
        }
        catch (ShmipcException)
        {
        }

        try
        {
            FallbackDataHeader.Read(input, out ReadOnlySpan<byte> payload);
            if (payload.Length + ProtocolConstants.FallbackDataHeaderLength > input.Length)
            {
                throw new FuzzContractException($"FallbackData payload of {payload.Length} bytes from a {input.Length}-byte input");
            }
        }
        catch (ShmipcException)
        {
        }

        foreach (EventType type in (ReadOnlySpan<EventType>)[EventType.HotRestart, EventType.HotRestartAck])
        {
            try
            {
                _ = HotRestartFrame.Read(input, type);
            }
            catch (ShmipcException)
            {
            }
        }

        foreach (EventType type in (ReadOnlySpan<EventType>)[EventType.Polling, EventType.ExchangeProtoVersion, EventType.AckShareMemory, EventType.AckReadyRecvFD])
        {
            try
            {
                _ = HeaderOnlyFrame.Read(input, type);
            }
            catch (ShmipcException)
            {
            }
        }
    }
}
