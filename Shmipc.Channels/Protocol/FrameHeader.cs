using System.Buffers.Binary;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// The 8-byte header that starts every frame (§1.1): u32 BE total length (header included), u16 BE magic
/// <c>0x7758</c>, u8 version, u8 type.
/// </summary>
/// <remarks>
/// <see cref="TryRead"/> only splits the bytes; it accepts any value so that the caller decides which rule
/// applies (the handshake maps a bad version to <see cref="ShmipcErrorCode.ProtocolVersion"/>, the data phase
/// to <see cref="ShmipcErrorCode.ProtocolViolation"/>). <see cref="Validate"/> applies the rules Go checks on
/// every header it reads.
/// </remarks>
internal readonly struct FrameHeader : IEquatable<FrameHeader>
{
    public FrameHeader(uint length, byte version, EventType type)
        : this(length, ProtocolConstants.Magic, version, type)
    {
    }

    public FrameHeader(uint length, ushort magic, byte version, EventType type)
    {
        Length = length;
        Magic = magic;
        Version = version;
        Type = type;
    }

    /// <summary>Total frame length in bytes, header included.</summary>
    public uint Length { get; }

    public ushort Magic { get; }

    public byte Version { get; }

    /// <summary>The type byte as sent; may be outside the defined <see cref="EventType"/> values until validated.</summary>
    public EventType Type { get; }

    public bool HasValidMagic => Magic == ProtocolConstants.Magic;

    public bool IsKnownType => (byte)Type <= ProtocolConstants.MaxEventType;

    /// <summary>Writes the 8 header bytes to the start of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < ProtocolConstants.HeaderSize)
        {
            ProtocolThrowHelper.ThrowDestinationTooSmall(ProtocolConstants.HeaderSize, destination.Length);
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, Length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], Magic);
        destination[6] = Version;
        destination[7] = (byte)Type;
    }

    /// <summary>Splits the first 8 bytes of <paramref name="source"/>; false when fewer than 8 are there.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out FrameHeader header)
    {
        if (source.Length < ProtocolConstants.HeaderSize)
        {
            header = default;
            return false;
        }

        header = new FrameHeader(
            BinaryPrimitives.ReadUInt32BigEndian(source),
            BinaryPrimitives.ReadUInt16BigEndian(source[4..]),
            source[6],
            (EventType)source[7]);
        return true;
    }

    /// <summary>Reads the header at the start of <paramref name="source"/>, which must hold at least 8 bytes.</summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        if (!TryRead(source, out FrameHeader header))
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"frame header: {source.Length} bytes available, expected at least {ProtocolConstants.HeaderSize}");
        }

        return header;
    }

    /// <summary>
    /// The §1.1 rules every reader applies: magic 0x7758, version not 0, type at most 9, length at least 8.
    /// Returns null when they hold, otherwise what is wrong.
    /// </summary>
    public string? GetValidationError()
    {
        if (!HasValidMagic)
        {
            return $"frame header: magic 0x{Magic:X4}, expected 0x{ProtocolConstants.Magic:X4}";
        }

        if (Version == 0)
        {
            return "frame header: version 0 is never valid";
        }

        if (!IsKnownType)
        {
            return $"frame header: type {(byte)Type}, expected 0..{ProtocolConstants.MaxEventType}";
        }

        if (Length < ProtocolConstants.HeaderSize)
        {
            return $"frame header: length {Length} ({Type}), smaller than the {ProtocolConstants.HeaderSize}-byte header";
        }

        return null;
    }

    /// <summary>Throws <see cref="ShmipcErrorCode.ProtocolViolation"/> unless <see cref="GetValidationError"/> is null.</summary>
    public void Validate()
    {
        string? error = GetValidationError();
        if (error is not null)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(error);
        }
    }

    /// <summary>Checks that this header announces a frame of <paramref name="type"/> of exactly <paramref name="length"/> bytes.</summary>
    internal void ValidateFixedFrame(EventType type, int length)
    {
        Validate();
        if (Type != type)
        {
            ProtocolThrowHelper.ThrowProtocolViolation($"frame header: type {(byte)Type} ({Type}), expected {(byte)type} ({type})");
        }

        if (Length != (uint)length)
        {
            ProtocolThrowHelper.ThrowProtocolViolation($"{type} frame: length {Length}, expected exactly {length}");
        }
    }

    public bool Equals(FrameHeader other) =>
        Length == other.Length && Magic == other.Magic && Version == other.Version && Type == other.Type;

    public override bool Equals(object? obj) => obj is FrameHeader other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Length, Magic, Version, Type);

    public override string ToString() => $"{Type}({(byte)Type}) v{Version} length {Length} magic 0x{Magic:X4}";

    public static bool operator ==(FrameHeader left, FrameHeader right) => left.Equals(right);

    public static bool operator !=(FrameHeader left, FrameHeader right) => !left.Equals(right);
}
