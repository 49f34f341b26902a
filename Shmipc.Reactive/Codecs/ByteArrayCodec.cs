using System.Buffers;

namespace Shmipc.Reactive.Codecs;

/// <summary>Raw bytes as <c>byte[]</c>. Decoding copies out of shared memory (the lease is released after).</summary>
internal sealed class ByteArrayCodec : IShmipcCodec<byte[]>
{
    public static readonly ByteArrayCodec Instance = new();

    public void Encode(byte[] value, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(value);
        writer.Write(value);
    }

    public byte[] Decode(ReadOnlySequence<byte> data) => data.ToArray();
}
