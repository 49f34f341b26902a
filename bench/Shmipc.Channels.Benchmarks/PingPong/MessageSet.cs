using System.Buffers;
using System.Buffers.Binary;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The request payloads of one size: <see cref="Count"/> different random messages of exactly <see cref="Size"/>
/// bytes, each starting with an 8-byte little-endian checksum of the rest, so a server can verify a request without
/// knowing which one it is, and the client checks the echo against the checksum it sent.
/// </summary>
internal sealed class MessageSet
{
    /// <summary>Bytes of the checksum header at the start of each message.</summary>
    public const int HeaderSize = 8;

    /// <summary>How many different messages rotate, so a stale or misrouted reply cannot pass.</summary>
    public const int Count = 8;

    /// <summary>Length of the message that opens a one-way stream (shorter than any payload: sizes start at 16 B).</summary>
    public const int HelloSize = 12;

    /// <summary>Length of the message that ends a one-way burst: the receiver echoes it once it has verified everything before it.</summary>
    public const int SyncSize = 16;

    private readonly byte[][] _messages;
    private readonly ulong[] _expected;

    public MessageSet(int size, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2 * HeaderSize);
        Size = size;
        _messages = new byte[Count][];
        _expected = new ulong[Count];
        for (var k = 0; k < Count; k++)
        {
            var message = GC.AllocateUninitializedArray<byte>(size);
            new Random(seed + k).NextBytes(message.AsSpan(HeaderSize));
            var checksum = Checksum.Compute(message.AsSpan(HeaderSize));
            BinaryPrimitives.WriteUInt64LittleEndian(message, checksum);
            _messages[k] = message;
            _expected[k] = checksum;
        }
    }

    /// <summary>The first message of a one-way stream: the server acknowledges it (echo) and from then on only verifies.</summary>
    public static byte[] Hello { get; } = Control("SINK"u8, HelloSize);

    /// <summary>The last message of a one-way burst: the server echoes it (all messages before it are verified by then).</summary>
    public static byte[] Sync { get; } = Control("SYNC-END"u8, SyncSize);

    /// <summary>Message length in bytes (header included).</summary>
    public int Size { get; }

    /// <summary>Message <paramref name="k"/> (0 ≤ k &lt; <see cref="Count"/>).</summary>
    public ReadOnlySpan<byte> Get(int k) => _messages[k];

    /// <summary>The checksum header of any message.</summary>
    public static ulong Header(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt64LittleEndian(message);

    /// <summary>The checksum message <paramref name="k"/> carries.</summary>
    public ulong Expected(int k) => _expected[k];

    /// <summary>Reads every byte: true when the checksum of bytes [8, end) equals the header; <paramref name="header"/> gets the header.</summary>
    public static bool Verify(in ReadOnlySequence<byte> message, out ulong header)
    {
        header = 0;
        if (message.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[HeaderSize];
        message.Slice(0, HeaderSize).CopyTo(head);
        header = BinaryPrimitives.ReadUInt64LittleEndian(head);
        var checksum = default(Checksum);
        foreach (var segment in message.Slice(HeaderSize))
        {
            checksum.Append(segment.Span);
        }

        return checksum.Finish() == header;
    }

    /// <inheritdoc cref="Verify(in ReadOnlySequence{byte}, out ulong)"/>
    public static bool Verify(ReadOnlySpan<byte> message, out ulong header)
    {
        header = 0;
        if (message.Length < HeaderSize)
        {
            return false;
        }

        header = BinaryPrimitives.ReadUInt64LittleEndian(message);
        return Checksum.Compute(message[HeaderSize..]) == header;
    }

    private static byte[] Control(ReadOnlySpan<byte> tag, int size)
    {
        var message = new byte[size];
        tag.CopyTo(message.AsSpan(HeaderSize));
        BinaryPrimitives.WriteUInt64LittleEndian(message, Checksum.Compute(message.AsSpan(HeaderSize)));
        return message;
    }
}
