using System.Text.Json;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Vectors;

/// <summary>Loading helpers for the <c>shm/</c> golden vectors (see vectors/README.md).</summary>
internal static class ShmVectors
{
    public const long DefaultRegionSize = 32L << 20;

    public static JsonDocument Json(string name) => JsonDocument.Parse(VectorFiles.ReadAllBytes("shm", name));

    /// <summary>Reads a file named the way the JSON files name them ("shm/xyz.bin").</summary>
    public static byte[] Bytes(string relativePath) => VectorFiles.ReadAllBytes(relativePath.Split('/'));

    /// <summary>A native copy of a complete image.</summary>
    public static NativeBuffer Image(string relativePath) => NativeBuffer.From(Bytes(relativePath));

    /// <summary>
    /// Rebuilds a sparse region: a zeroed buffer of <paramref name="regionSize"/> bytes with every part of the
    /// .json index placed at its region offset.
    /// </summary>
    public static NativeBuffer RegionFromParts(string jsonName, long regionSize)
    {
        using JsonDocument index = Json(jsonName);
        byte[] bin = Bytes(index.RootElement.GetProperty("bin").GetString()!);
        var region = new NativeBuffer(regionSize);
        foreach (JsonElement part in index.RootElement.GetProperty("index").EnumerateArray())
        {
            bin.AsSpan(part.GetProperty("file_offset").GetInt32(), part.GetProperty("length").GetInt32())
                .CopyTo(region.Span[part.GetProperty("region_offset").GetInt32()..]);
        }

        return region;
    }

    public static uint U32(this JsonElement e, string name) => e.GetProperty(name).GetUInt32();

    public static int I32(this JsonElement e, string name) => e.GetProperty(name).GetInt32();

    public static long I64(this JsonElement e, string name) => e.GetProperty(name).GetInt64();

    /// <summary>Byte-for-byte comparison that names the first differing offset.</summary>
    public static void AssertBytesEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int mismatch = expected.CommonPrefixLength(actual);
        if (mismatch != expected.Length)
        {
            Assert.Fail($"{what}: first difference at byte {mismatch}: expected 0x{expected[mismatch]:x2}, got 0x{actual[mismatch]:x2}");
        }
    }
}
