using System.Buffers;
using System.Text;

namespace Shmipc.Reactive.Codecs;

/// <summary>
/// Strings as UTF-8, encoded straight into shared memory slice by slice and decoded from the slices in place.
/// Invalid UTF-8 (or a lone surrogate to encode) throws rather than being replaced, so a corrupt message is reported.
/// </summary>
internal sealed class Utf8StringCodec : IShmipcCodec<string>
{
    public static readonly Utf8StringCodec Instance = new();

    // UTF-8 needs at most 4 bytes per scalar: a span of 4 always lets the encoder make progress.
    private const int MinChunk = 4;

    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public void Encode(string value, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(value);
        ReadOnlySpan<char> rest = value;
        if (rest.IsEmpty)
        {
            return;
        }

        // Piecewise with an Encoder rather than Encoding.GetBytes(chars, writer), which asks for the whole byte count
        // at once: a long string would then not fit a slice and move the message to the heap.
        var encoder = s_strict.GetEncoder();
        var completed = false;
        while (!completed)
        {
            var span = writer.GetSpan(MinChunk);
            encoder.Convert(rest, span, flush: true, out var charsUsed, out var bytesUsed, out completed);
            writer.Advance(bytesUsed);
            rest = rest[charsUsed..];
        }
    }

    public string Decode(ReadOnlySequence<byte> data) => s_strict.GetString(data);
}
