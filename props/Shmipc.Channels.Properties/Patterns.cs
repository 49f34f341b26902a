namespace Shmipc.Channels.Properties;

/// <summary>
/// A byte pattern that depends on (stamp, slice index, byte index), so a slice handed to two owners, a chain read
/// in the wrong order or data from the wrong slice all show up as a mismatch.
/// </summary>
internal static class Patterns
{
    public static byte At(int stamp, int sliceIndex, int index) =>
        unchecked((byte)((stamp * 131) ^ (sliceIndex * 29) ^ index ^ (index >> 8) ^ (index >> 16) ^ 0x5A));

    public static void Fill(Span<byte> data, int stamp, int sliceIndex)
    {
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = At(stamp, sliceIndex, i);
        }
    }

    /// <summary>Index of the first byte that does not match, or -1.</summary>
    public static int FindMismatch(ReadOnlySpan<byte> data, int stamp, int sliceIndex)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != At(stamp, sliceIndex, i))
            {
                return i;
            }
        }

        return -1;
    }
}
