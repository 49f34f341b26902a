using System.Buffers;

namespace Shmipc.Demo;

/// <summary>The demo service: a reply is the request with ASCII letters in upper case, byte for byte.</summary>
internal static class Uppercase
{
    public static byte Of(byte b) => b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b;

    /// <summary>
    /// Writes the upper-cased <paramref name="source"/> into <paramref name="destination"/>. With a lease's writer,
    /// <c>GetSpan()</c> without a size hint hands out the rest of the current slice or a fresh one, so a message larger
    /// than a slice becomes a chain of slices in shared memory.
    /// </summary>
    public static void Copy(ReadOnlySequence<byte> source, IBufferWriter<byte> destination)
    {
        foreach (var segment in source)
        {
            var rest = segment.Span;
            while (!rest.IsEmpty)
            {
                var span = destination.GetSpan();
                var n = Math.Min(span.Length, rest.Length);
                for (var i = 0; i < n; i++)
                {
                    span[i] = Of(rest[i]);
                }

                destination.Advance(n);
                rest = rest[n..];
            }
        }
    }

    public static void InPlace(Span<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = Of(bytes[i]);
        }
    }
}
