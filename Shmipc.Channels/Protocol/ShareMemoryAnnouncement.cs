using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// Payload of <see cref="EventType.ShareMemoryByFilePath"/> (0) and <see cref="EventType.ShareMemoryByMemfd"/> (5),
/// §2.2: u16 BE queue path length, queue path, u16 BE buffer path length, buffer path. Queue path first.
/// </summary>
/// <remarks>
/// Go's <c>extractShmMetadata</c> trusts the two embedded lengths (a bad frame panics the Go process, §14.12).
/// Here they must add up to the frame length exactly, and each path must be non-empty UTF-8 without NUL and
/// at most <see cref="ProtocolConstants.MaxPathLength"/> bytes. For type 5 the strings are memfd logical names,
/// used only as keys and labels (§4.1).
/// </remarks>
internal readonly struct ShareMemoryAnnouncement : IEquatable<ShareMemoryAnnouncement>
{
    // Strict: a string with a lone surrogate must not silently become U+FFFD on the wire.
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public ShareMemoryAnnouncement(string queuePath, string bufferPath)
    {
        QueuePath = queuePath;
        BufferPath = bufferPath;
    }

    /// <summary>Path (file mode) or logical name (memfd mode) of the queue object.</summary>
    public string QueuePath { get; }

    /// <summary>Path (file mode) or logical name (memfd mode) of the buffer region.</summary>
    public string BufferPath { get; }

    /// <summary>Total frame length (header included) of this announcement; validates both paths.</summary>
    public int GetFrameLength() =>
        ProtocolConstants.MinShareMemoryFrameLength
        + GetEncodedPathLength(QueuePath, nameof(QueuePath))
        + GetEncodedPathLength(BufferPath, nameof(BufferPath));

    /// <summary>
    /// Writes the whole frame (header + payload) of <paramref name="type"/> 0 or 5 into <paramref name="destination"/>
    /// and returns its length.
    /// </summary>
    public int Write(Span<byte> destination, byte version, EventType type)
    {
        if (type is not (EventType.ShareMemoryByFilePath or EventType.ShareMemoryByMemfd))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "A share-memory announcement is type 0 or 5.");
        }

        int length = GetFrameLength();
        if (destination.Length < length)
        {
            ProtocolThrowHelper.ThrowDestinationTooSmall(length, destination.Length);
        }

        new FrameHeader((uint)length, version, type).Write(destination);
        int offset = ProtocolConstants.HeaderSize;
        offset += WritePath(destination[offset..], QueuePath);
        offset += WritePath(destination[offset..], BufferPath);
        return offset;
    }

    /// <summary>
    /// Decodes a whole frame: validated header of type 0 or 5, length within
    /// [<see cref="ProtocolConstants.MinShareMemoryFrameLength"/>, <see cref="ProtocolConstants.MaxShareMemoryFrameLength"/>],
    /// then the body as in <see cref="ReadBody"/>. Bytes after <c>length</c> are not looked at.
    /// </summary>
    public static ShareMemoryAnnouncement Read(ReadOnlySpan<byte> frame)
    {
        FrameHeader header = FrameHeader.Read(frame);
        header.Validate();
        if (header.Type is not (EventType.ShareMemoryByFilePath or EventType.ShareMemoryByMemfd))
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"share-memory announcement: type {(byte)header.Type} ({header.Type}), expected 0 or 5");
        }

        ValidateFrameLength(header.Length);
        if ((uint)frame.Length < header.Length)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"share-memory announcement: frame length {header.Length}, only {frame.Length} bytes given");
        }

        return ReadBody(frame[ProtocolConstants.HeaderSize..(int)header.Length]);
    }

    /// <summary>
    /// Throws <see cref="ShmipcErrorCode.ProtocolViolation"/> when an announcement's header <c>length</c> is
    /// outside the accepted range; call it before reading the body so a hostile length never sizes a buffer.
    /// </summary>
    public static void ValidateFrameLength(uint length)
    {
        if (length < ProtocolConstants.MinShareMemoryFrameLength || length > ProtocolConstants.MaxShareMemoryFrameLength)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"share-memory announcement: length {length}, expected {ProtocolConstants.MinShareMemoryFrameLength}..{ProtocolConstants.MaxShareMemoryFrameLength}");
        }
    }

    /// <summary>
    /// Decodes the payload (the <c>length - 8</c> bytes after the header). The embedded lengths must account for
    /// every byte of <paramref name="body"/>.
    /// </summary>
    public static ShareMemoryAnnouncement ReadBody(ReadOnlySpan<byte> body)
    {
        int offset = 0;
        string queuePath = ReadPath(body, ref offset, "queue path");
        string bufferPath = ReadPath(body, ref offset, "buffer path");
        if (offset != body.Length)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"share-memory announcement: the paths end at body offset {offset}, but the body has {body.Length} bytes (length = 12 + Lq + Lb expected)");
        }

        return new ShareMemoryAnnouncement(queuePath, bufferPath);
    }

    private static string ReadPath(ReadOnlySpan<byte> body, ref int offset, string what)
    {
        if (body.Length - offset < 2)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"share-memory announcement: {what} length field at body offset {offset} is beyond the {body.Length}-byte body");
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(body[offset..]);
        offset += 2;
        if (length == 0)
        {
            ProtocolThrowHelper.ThrowProtocolViolation($"share-memory announcement: {what} is empty");
        }

        if (length > ProtocolConstants.MaxPathLength)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"share-memory announcement: {what} length {length}, at most {ProtocolConstants.MaxPathLength} accepted");
        }

        if (length > body.Length - offset)
        {
            ProtocolThrowHelper.ThrowProtocolViolation(
                $"share-memory announcement: {what} length {length} at body offset {offset - 2} runs past the {body.Length}-byte body");
        }

        ReadOnlySpan<byte> bytes = body.Slice(offset, length);
        offset += length;
        if (bytes.Contains((byte)0))
        {
            ProtocolThrowHelper.ThrowProtocolViolation($"share-memory announcement: {what} contains a NUL byte");
        }

        if (!Utf8.IsValid(bytes))
        {
            ProtocolThrowHelper.ThrowProtocolViolation($"share-memory announcement: {what} is not valid UTF-8");
        }

        return Encoding.UTF8.GetString(bytes);
    }

    private static int GetEncodedPathLength(string? path, string paramName)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("A share-memory path or name must not be null or empty.", paramName);
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A share-memory path or name must not contain NUL.", paramName);
        }

        int length;
        try
        {
            length = s_strictUtf8.GetByteCount(path);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("A share-memory path or name must be valid UTF-16 (no lone surrogates).", paramName, e);
        }

        if (length > ProtocolConstants.MaxPathLength)
        {
            throw new ArgumentException(
                $"A share-memory path or name is {length} UTF-8 bytes; at most {ProtocolConstants.MaxPathLength} are allowed.", paramName);
        }

        return length;
    }

    private static int WritePath(Span<byte> destination, string path)
    {
        int written = s_strictUtf8.GetBytes(path, destination[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)written);
        return 2 + written;
    }

    public bool Equals(ShareMemoryAnnouncement other) =>
        string.Equals(QueuePath, other.QueuePath, StringComparison.Ordinal)
        && string.Equals(BufferPath, other.BufferPath, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is ShareMemoryAnnouncement other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(QueuePath, BufferPath);

    public override string ToString() => $"queue '{QueuePath}', buffer '{BufferPath}'";

    public static bool operator ==(ShareMemoryAnnouncement left, ShareMemoryAnnouncement right) => left.Equals(right);

    public static bool operator !=(ShareMemoryAnnouncement left, ShareMemoryAnnouncement right) => !left.Equals(right);
}
