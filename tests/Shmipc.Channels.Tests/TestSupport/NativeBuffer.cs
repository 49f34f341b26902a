using System.Runtime.InteropServices;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>Zeroed native memory standing in for a shared mapping; freed on Dispose.</summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    public NativeBuffer(long length)
    {
        Length = length;
        Address = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), 64);
        NativeMemory.Clear(Address, (nuint)length);
    }

    public byte* Address { get; private set; }

    public long Length { get; }

    public Span<byte> Span => new(Address, checked((int)Length));

    /// <summary>A native copy of <paramref name="bytes"/>.</summary>
    public static NativeBuffer From(ReadOnlySpan<byte> bytes)
    {
        var buffer = new NativeBuffer(bytes.Length);
        bytes.CopyTo(buffer.Span);
        return buffer;
    }

    public void Dispose()
    {
        if (Address != null)
        {
            NativeMemory.AlignedFree(Address);
            Address = null;
        }
    }
}
