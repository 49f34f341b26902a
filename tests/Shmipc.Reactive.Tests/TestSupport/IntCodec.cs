using System.Buffers;
using System.Buffers.Binary;

namespace Shmipc.Reactive.Tests.TestSupport;

/// <summary>A 4-byte little-endian codec for the tests.</summary>
public sealed class IntCodec : IShmipcCodec<int>
{
    public static readonly IntCodec Instance = new();

    public void Encode(int value, IBufferWriter<byte> writer)
    {
        BinaryPrimitives.WriteInt32LittleEndian(writer.GetSpan(4), value);
        writer.Advance(4);
    }

    public int Decode(ReadOnlySequence<byte> data)
    {
        if (data.Length != 4)
        {
            throw new FormatException($"expected 4 bytes, got {data.Length}");
        }

        Span<byte> bytes = stackalloc byte[4];
        data.CopyTo(bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }
}
