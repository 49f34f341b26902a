namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// The byte pattern both sides of the cross-process tests write and verify (this file is compiled into the peer and
/// linked into the test project, so there is one definition).
/// </summary>
internal static class PayloadPattern
{
    /// <summary>The seed of message <paramref name="sequence"/> of a stream in a long sequence (crash-midway).</summary>
    public static uint SequenceSeed(uint sequence, uint streamId) => (sequence << 8) | (streamId & 0xFF);

    /// <summary>The byte at <paramref name="index"/> of a payload seeded with <paramref name="seed"/>.</summary>
    public static byte At(uint seed, int index) => (byte)((seed * 131u) + (uint)index + ((uint)index >> 8) + ((uint)index >> 16));

    /// <summary>Fills <paramref name="destination"/> as if it started at <paramref name="offset"/> of a payload.</summary>
    public static void Fill(Span<byte> destination, uint seed, int offset = 0)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = At(seed, offset + i);
        }
    }

    /// <summary>A new payload of <paramref name="length"/> bytes.</summary>
    public static byte[] Create(int length, uint seed)
    {
        var bytes = new byte[length];
        Fill(bytes, seed);
        return bytes;
    }

    /// <summary>The first index where <paramref name="actual"/> differs from the pattern (from <paramref name="offset"/>), or -1.</summary>
    public static int FirstMismatch(ReadOnlySpan<byte> actual, uint seed, int offset = 0)
    {
        for (var i = 0; i < actual.Length; i++)
        {
            if (actual[i] != At(seed, offset + i))
            {
                return offset + i;
            }
        }

        return -1;
    }
}
