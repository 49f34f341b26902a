using System.Buffers.Binary;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// The 8-byte metadata of <see cref="EventType.FallbackData"/> (3), §2.6/§7: u32 BE seqID (stream id) and u32 BE
/// status, followed by <c>length - 16</c> payload bytes that did not fit into shared memory.
/// </summary>
/// <remarks>
/// Only the low 8 bits of the status are meaningful (stream state: 0 opened, 1 closed, 2 half-closed).
/// A frame shorter than 16 bytes panics both Go and Rust (§7, §14.12); here it is a protocol violation.
/// </remarks>
internal readonly struct FallbackDataHeader : IEquatable<FallbackDataHeader>
{
    public FallbackDataHeader(uint streamId, uint status)
    {
        StreamId = streamId;
        Status = status;
    }

    public uint StreamId { get; }

    /// <summary>The status word as sent; see <see cref="StreamState"/>.</summary>
    public uint Status { get; }

    /// <summary>The low 8 bits of <see cref="Status"/>, the only meaningful part (§2.6).</summary>
    public byte StreamState => (byte)Status;

    /// <summary>Frame length for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int GetFrameLength(int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, int.MaxValue - ProtocolConstants.FallbackDataHeaderLength);
        return ProtocolConstants.FallbackDataHeaderLength + payloadLength;
    }

    /// <summary>
    /// Writes the first 16 bytes of a frame whose payload (<paramref name="payloadLength"/> bytes) the caller
    /// sends right after, so a multi-slice payload can be gathered without copying it here.
    /// </summary>
    public static void WriteHeader(Span<byte> destination, byte version, uint streamId, uint status, int payloadLength)
    {
        int length = GetFrameLength(payloadLength);
        if (destination.Length < ProtocolConstants.FallbackDataHeaderLength)
        {
            ProtocolThrowHelper.ThrowDestinationTooSmall(ProtocolConstants.FallbackDataHeaderLength, destination.Length);
        }

        new FrameHeader((uint)length, version, EventType.FallbackData).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], streamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], status);
    }

    /// <summary>Writes the whole frame (header, metadata, payload) and returns its length.</summary>
    public static int Write(Span<byte> destination, byte version, uint streamId, uint status, ReadOnlySpan<byte> payload)
    {
        int length = GetFrameLength(payload.Length);
        if (destination.Length < length)
        {
            ProtocolThrowHelper.ThrowDestinationTooSmall(length, destination.Length);
        }

        WriteHeader(destination, version, streamId, status, payload.Length);
        payload.CopyTo(destination[ProtocolConstants.FallbackDataHeaderLength..]);
        return length;
    }

    /// <summary>
    /// Decodes a whole frame: validated header of type 3 with length ≥ 16 and all <c>length</c> bytes present.
    /// <paramref name="payload"/> is a slice of <paramref name="frame"/> (no copy).
    /// </summary>
    public static FallbackDataHeader Read(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> payload)
    {
        FrameHeader header = FrameHeader.Read(frame);
        header.Validate();
        if (header.Type != EventType.FallbackData)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"frame header: type {(byte)header.Type} ({header.Type}), expected {(byte)EventType.FallbackData} (FallbackData)");
        }

        if (header.Length < ProtocolConstants.FallbackDataHeaderLength)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"FallbackData frame: length {header.Length}, expected at least {ProtocolConstants.FallbackDataHeaderLength}");
        }

        if ((uint)frame.Length < header.Length)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"FallbackData frame: length {header.Length}, only {frame.Length} bytes given");
        }

        payload = frame[ProtocolConstants.FallbackDataHeaderLength..(int)header.Length];
        return ReadMetadata(frame);
    }

    /// <summary>Reads seqID and status from bytes 8..16 of a frame already validated by the caller.</summary>
    internal static FallbackDataHeader ReadMetadata(ReadOnlySpan<byte> frame) =>
        new(BinaryPrimitives.ReadUInt32BigEndian(frame[8..]), BinaryPrimitives.ReadUInt32BigEndian(frame[12..]));

    public bool Equals(FallbackDataHeader other) => StreamId == other.StreamId && Status == other.Status;

    public override bool Equals(object? obj) => obj is FallbackDataHeader other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(StreamId, Status);

    public override string ToString() => $"FallbackData stream {StreamId} status {Status}";

    public static bool operator ==(FallbackDataHeader left, FallbackDataHeader right) => left.Equals(right);

    public static bool operator !=(FallbackDataHeader left, FallbackDataHeader right) => !left.Equals(right);
}
