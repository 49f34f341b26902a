using System.Buffers;

namespace Shmipc.Reactive.Codecs;

/// <summary>
/// Raw bytes as <see cref="ReadOnlyMemory{T}"/>. Encoding copies into shared memory piecewise (slices chain);
/// decoding copies out into a new array, because the lease under the bytes is released right after.
/// </summary>
internal sealed class MemoryCodec : IShmipcCodec<ReadOnlyMemory<byte>>
{
    public static readonly MemoryCodec Instance = new();

    public void Encode(ReadOnlyMemory<byte> value, IBufferWriter<byte> writer) => writer.Write(value.Span);

    public ReadOnlyMemory<byte> Decode(ReadOnlySequence<byte> data) => data.ToArray();
}
