using Shmipc.Channels.Protocol;
using Xunit;

namespace Shmipc.Channels.Tests.Protocol;

public class ReceiveBufferTests
{
    [Fact]
    public void WriteAdvanceConsume_KeepsOrder()
    {
        using var buffer = new ReceiveBuffer(16, 16);
        Fill(buffer, [1, 2, 3]);
        Fill(buffer, [4, 5]);
        Assert.Equal([1, 2, 3, 4, 5], buffer.Readable.ToArray());
        buffer.Consume(2);
        Assert.Equal([3, 4, 5], buffer.Readable.ToArray());
        buffer.Consume(3);
        Assert.Equal(0, buffer.ReadableLength);
    }

    [Fact]
    public void GetWriteSpan_GrowsAndKeepsUnconsumedBytes()
    {
        using var buffer = new ReceiveBuffer(16, 1 << 20);
        byte[] data = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        Fill(buffer, data);
        buffer.Consume(3);
        Span<byte> free = buffer.GetWriteSpan(1000);
        Assert.True(free.Length >= 1000);
        Assert.True(buffer.Capacity >= 1013);
        Assert.Equal(data.AsSpan(3).ToArray(), buffer.Readable.ToArray());
    }

    [Fact]
    public void GetWriteSpan_CompactsInsteadOfGrowingWhenThereIsRoom()
    {
        using var buffer = new ReceiveBuffer(16, 16);
        int capacity = buffer.Capacity;
        Fill(buffer, new byte[capacity]);
        buffer.Consume(capacity - 2);
        Span<byte> free = buffer.GetWriteSpan(capacity - 2);
        Assert.Equal(capacity - 2, free.Length);
        Assert.Equal(capacity, buffer.Capacity);
        Assert.Equal(2, buffer.ReadableLength);
    }

    [Fact]
    public void Consume_ShrinksBackOnceEmpty()
    {
        using var buffer = new ReceiveBuffer(64, 1024);
        buffer.GetWriteSpan(10_000);
        buffer.Advance(10_000);
        Assert.True(buffer.Capacity >= 10_000);
        buffer.Consume(9_999);
        Assert.True(buffer.Capacity >= 10_000);
        buffer.Consume(1);
        Assert.True(buffer.Capacity < 1024);
    }

    [Fact]
    public void AdvanceAndConsume_CheckTheirArguments()
    {
        using var buffer = new ReceiveBuffer(16, 16);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(buffer.Capacity + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(-1));
        Fill(buffer, [1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Consume(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.GetWriteSpan(-1));
    }

    [Fact]
    public void Dispose_IsIdempotent_AndBlocksFurtherUse()
    {
        var buffer = new ReceiveBuffer();
        buffer.Dispose();
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.GetWriteSpan(1));
        Assert.Throws<ObjectDisposedException>(() => buffer.Readable.ToArray());
    }

    private static void Fill(ReceiveBuffer buffer, byte[] bytes)
    {
        bytes.CopyTo(buffer.GetWriteSpan(bytes.Length));
        buffer.Advance(bytes.Length);
    }
}
