namespace Shmipc.Fuzz;

/// <summary>
/// Deterministic random mutations of seed inputs (bit flips, interesting bytes, length-field values, splices,
/// truncation, insertion), for a fuzzer-free smoke run and the regression test. Not coverage-guided: a real fuzzer
/// goes much deeper, this only keeps the obvious cases in every test run.
/// </summary>
public static class Mutator
{
    // Values that hit boundaries of the frame rules: lengths around the header and fixed-frame sizes, the maximum
    // path length and the int/uint limits.
    private static readonly uint[] s_interesting = [0, 1, 7, 8, 9, 11, 12, 15, 16, 17, 0x7758, 4095, 4096, 4097, 8206, 8207, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF];

    /// <summary>Returns a mutated copy of one of <paramref name="seeds"/>.</summary>
    /// <param name="seeds">The inputs to start from (at least one).</param>
    /// <param name="random">The source of choices; seed it for a reproducible sequence.</param>
    public static byte[] Mutate(IReadOnlyList<byte[]> seeds, Random random)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(random);
        var data = new List<byte>(seeds[random.Next(seeds.Count)]);
        int steps = random.Next(1, 5);
        for (int i = 0; i < steps; i++)
        {
            switch (random.Next(7))
            {
                case 0 when data.Count > 0: // flip one bit
                    data[random.Next(data.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when data.Count > 0: // one random byte (the version and type bytes matter most)
                    data[random.Next(data.Count)] = (byte)random.Next(256);
                    break;
                case 2 when data.Count >= 4: // a big-endian u32 or u16 boundary value where a length field may be
                    WriteBigEndian(data, random.Next(data.Count - 3), s_interesting[random.Next(s_interesting.Length)], random.Next(2) == 0 ? 4 : 2);
                    break;
                case 3: // cut the end
                    Truncate(data, random);
                    break;
                case 4: // splice: append the start of another seed (a second frame after the first)
                    byte[] other = seeds[random.Next(seeds.Count)];
                    data.AddRange(other.AsSpan(0, random.Next(other.Length + 1)).ToArray());
                    break;
                case 5: // insert random bytes
                    var bytes = new byte[random.Next(1, 9)];
                    random.NextBytes(bytes);
                    data.InsertRange(random.Next(data.Count + 1), bytes);
                    break;
                default: // remove a range
                    if (data.Count > 0)
                    {
                        int start = random.Next(data.Count);
                        data.RemoveRange(start, random.Next(1, data.Count - start + 1));
                    }

                    break;
            }
        }

        return [.. data];
    }

    private static void Truncate(List<byte> data, Random random)
    {
        int keep = random.Next(data.Count + 1);
        data.RemoveRange(keep, data.Count - keep);
    }

    private static void WriteBigEndian(List<byte> data, int offset, uint value, int width)
    {
        for (int i = 0; i < width; i++)
        {
            data[offset + i] = (byte)(value >> (8 * (width - 1 - i)));
        }
    }
}
