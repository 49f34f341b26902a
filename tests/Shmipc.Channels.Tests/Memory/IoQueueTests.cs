using System.Runtime.CompilerServices;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Memory;

public sealed unsafe class IoQueueTests
{
    public static TheoryData<string> Layouts => new() { "amd64", "arm64" };

    private static QueueLayout LayoutOf(string name) => name == "arm64" ? QueueLayout.Arm64 : QueueLayout.Amd64;

    private static T Read<T>(NativeBuffer memory, long offset)
        where T : unmanaged => Unsafe.ReadUnaligned<T>(memory.Address + offset);

    private static void Write<T>(NativeBuffer memory, long offset, T value)
        where T : unmanaged => Unsafe.WriteUnaligned(memory.Address + offset, value);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Create_zeroes_and_writes_both_caps(string layoutName)
    {
        QueueLayout layout = LayoutOf(layoutName);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(8));
        memory.Span.Fill(0xAB);

        IoQueuePair pair = IoQueuePair.Create(memory.Address, memory.Length, 8, isCreator: true, layout);

        Assert.Equal(8u, Read<uint>(memory, 0));
        Assert.Equal(8u, Read<uint>(memory, 120));
        Assert.Equal(memory.Length - 2, memory.Span.Count((byte)0)); // only the two cap low bytes are non-zero
        Assert.Equal((8u, 0L, 0L, false), (pair.SendQueue.Capacity, pair.SendQueue.Head, pair.SendQueue.Tail, pair.SendQueue.IsWorking));
        Assert.Equal(layout, pair.Layout);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Header_fields_sit_at_the_layout_offsets(string layoutName)
    {
        QueueLayout layout = LayoutOf(layoutName);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(4));
        IoQueue q = IoQueuePair.Create(memory.Address, memory.Length, 4, isCreator: true, layout).SendQueue;

        Assert.True(q.TryPut(new QueueElement(7, 44, 0)));
        Assert.True(q.TryPut(new QueueElement(8, 88, 1)));
        Assert.True(q.TryPop(out _));
        Assert.True(q.MarkWorking());

        Assert.Equal(1L, Read<long>(memory, layout.HeadOffset));
        Assert.Equal(2L, Read<long>(memory, layout.TailOffset));
        Assert.Equal(1u, Read<uint>(memory, layout.WorkingFlagOffset));
        Assert.Equal(Convert.FromHexString("070000002C00000000000000" + "080000005800000001000000"), memory.Span.Slice(24, 24).ToArray());
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Fill_to_capacity_then_full_and_FIFO(string layoutName)
    {
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(16));
        IoQueue q = IoQueuePair.Create(memory.Address, memory.Length, 16, isCreator: true, LayoutOf(layoutName)).SendQueue;

        for (uint i = 0; i < 16; i++)
        {
            Assert.True(q.TryPut(QueueElement.Data(i, i * 100)));
        }

        Assert.False(q.TryPut(QueueElement.Close(99)));
        Assert.Equal(16, q.Count);
        for (uint i = 0; i < 16; i++)
        {
            Assert.True(q.TryPop(out QueueElement e));
            Assert.Equal(QueueElement.Data(i, i * 100), e);
        }

        Assert.False(q.TryPop(out QueueElement empty));
        Assert.Equal(default, empty);
        Assert.Equal(0, q.Count);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Wraps_around_a_capacity_that_is_not_a_power_of_two(string layoutName)
    {
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(3));
        IoQueue q = IoQueuePair.Create(memory.Address, memory.Length, 3, isCreator: false, LayoutOf(layoutName)).ReceiveQueue;
        uint next = 0, expected = 0;
        for (int round = 0; round < 50; round++)
        {
            int puts = (round % 3) + 1;
            for (int i = 0; i < puts; i++)
            {
                Assert.True(q.TryPut(new QueueElement(next, next, 0)));
                next++;
            }

            while (q.TryPop(out QueueElement e))
            {
                Assert.Equal(expected++, e.StreamId);
            }
        }

        Assert.Equal(next, expected);
        Assert.Equal(q.Head, q.Tail);
        Assert.Equal(next, (uint)q.Tail);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Working_flag_semantics(string layoutName)
    {
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(4));
        IoQueue q = IoQueuePair.Create(memory.Address, memory.Length, 4, isCreator: true, LayoutOf(layoutName)).SendQueue;

        Assert.True(q.MarkWorking());   // producer: I must send Polling
        Assert.False(q.MarkWorking());  // already set: no second Polling
        Assert.True(q.IsWorking);
        Assert.True(q.MarkNotWorking()); // consumer: empty => flag cleared
        Assert.False(q.IsWorking);

        Assert.True(q.TryPut(QueueElement.Data(2, 44)));
        Assert.True(q.MarkWorking());
        Assert.False(q.MarkNotWorking()); // pending element => re-armed, drain again
        Assert.True(q.IsWorking);
        Assert.False(q.MarkWorking());
        Assert.True(q.TryPop(out _));
        Assert.True(q.MarkNotWorking());
        Assert.False(q.IsWorking);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Creator_sends_on_the_first_half_and_the_mapper_receives_it(string layoutName)
    {
        QueueLayout layout = LayoutOf(layoutName);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(8));
        IoQueuePair client = IoQueuePair.Create(memory.Address, memory.Length, 8, isCreator: true, layout);
        IoQueuePair server = IoQueuePair.Map(memory.Address, memory.Length, isCreator: false, layout);

        Assert.True(client.SendQueue.TryPut(QueueElement.Data(2, 44)));
        Assert.True(server.SendQueue.TryPut(QueueElement.Data(3, 88)));

        Assert.Equal(1L, Read<long>(memory, layout.TailOffset));                         // first half
        Assert.Equal(1L, Read<long>(memory, (memory.Length / 2) + layout.TailOffset));   // second half
        Assert.True(server.ReceiveQueue.TryPop(out QueueElement fromClient));
        Assert.True(client.ReceiveQueue.TryPop(out QueueElement fromServer));
        Assert.Equal((2u, 3u), (fromClient.StreamId, fromServer.StreamId));
        Assert.False(server.IsCreator);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Map_rejects_corrupt_headers(string layoutName)
    {
        QueueLayout layout = LayoutOf(layoutName);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(8));
        long half = memory.Length / 2;
        IoQueuePair.Create(memory.Address, memory.Length, 8, isCreator: true, layout);

        AssertCorrupt(memory.Length - 1);                 // odd size
        AssertCorrupt(20);                                // too small
        AssertCorrupt(memory.Length - 24);                // cap does not match the half
        Write(memory, half, 0u);
        Assert.Contains("second", AssertCorrupt(memory.Length)); // cap 0
        Write(memory, half, 9u);
        AssertCorrupt(memory.Length);                     // 24 + 12·9 != half
        Write(memory, half, 8u);
        Write(memory, layout.HeadOffset, 5L);             // head > tail
        Assert.Contains("first", AssertCorrupt(memory.Length));
        Write(memory, layout.HeadOffset, 0L);
        Write(memory, layout.TailOffset, 9L);             // tail - head > cap
        AssertCorrupt(memory.Length);
        Write(memory, layout.TailOffset, 8L);
        Assert.Equal(8, IoQueuePair.Map(memory.Address, memory.Length, false, layout).ReceiveQueue.Count);

        string AssertCorrupt(long length)
        {
            var e = Assert.Throws<ShmipcException>(() => IoQueuePair.Map(memory.Address, length, false, layout));
            Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, e.ErrorCode);
            return e.Message;
        }
    }

    [Fact]
    public void Create_rejects_capacity_0_and_a_wrong_length()
    {
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(8));
        Assert.Equal(ShmipcErrorCode.InvalidConfiguration, Assert.Throws<ShmipcException>(
            () => IoQueuePair.Create(memory.Address, memory.Length, 0, true, QueueLayout.Amd64)).ErrorCode);
        Assert.Equal(ShmipcErrorCode.InvalidConfiguration, Assert.Throws<ShmipcException>(
            () => IoQueuePair.Create(memory.Address, memory.Length, 7, true, QueueLayout.Amd64)).ErrorCode);
        Assert.Throws<ArgumentException>(() => IoQueuePair.Create(memory.Address, memory.Length, 8, true, default));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Hostile_indexes_are_reported_not_dereferenced(string layoutName)
    {
        QueueLayout layout = LayoutOf(layoutName);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(4));
        IoQueuePair pair = IoQueuePair.Create(memory.Address, memory.Length, 4, isCreator: true, layout);
        IoQueue q = pair.SendQueue;

        Write(memory, layout.TailOffset, 1_000_000L); // producer claims a million pending elements
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, Assert.Throws<ShmipcException>(() => q.TryPop(out _)).ErrorCode);
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, Assert.Throws<ShmipcException>(() => q.MarkNotWorking()).ErrorCode);

        Write(memory, layout.TailOffset, 0L);
        Write(memory, layout.HeadOffset, -8L);        // negative consumer index
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, Assert.Throws<ShmipcException>(() => q.TryPop(out _)).ErrorCode);

        // Producer: a consumer index that runs ahead of tail is caught when the producer refreshes its copy.
        Write(memory, layout.HeadOffset, 0L);
        IoQueue producer = IoQueuePair.Map(memory.Address, memory.Length, isCreator: true, layout).SendQueue;
        for (int i = 0; i < 4; i++)
        {
            Assert.True(producer.TryPut(QueueElement.Data(1, 0)));
        }

        Write(memory, layout.HeadOffset, 100L);
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, Assert.Throws<ShmipcException>(() => producer.TryPut(QueueElement.Data(1, 0))).ErrorCode);

        // Huge or negative own index: slots stay inside the ring (unsigned modulo).
        Write(memory, layout.HeadOffset, long.MaxValue - 1);
        Write(memory, layout.TailOffset, long.MaxValue - 1);
        IoQueue wrapped = IoQueuePair.Map(memory.Address, memory.Length, isCreator: true, layout).SendQueue;
        Assert.True(wrapped.TryPut(QueueElement.Data(5, 5)));
        Assert.True(wrapped.TryPop(out QueueElement e));
        Assert.Equal(5u, e.StreamId);
    }

    [Fact]
    public void Producer_and_consumer_threads_preserve_order()
    {
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(64));
        IoQueuePair client = IoQueuePair.Create(memory.Address, memory.Length, 64, isCreator: true, QueueLayout.Amd64);
        IoQueuePair server = IoQueuePair.Map(memory.Address, memory.Length, isCreator: false, QueueLayout.Amd64);
        const uint count = 50_000;
        var producer = new Thread(() =>
        {
            for (uint i = 0; i < count;)
            {
                if (client.SendQueue.TryPut(new QueueElement(i, ~i, i & 1)))
                {
                    i++;
                }
                else
                {
                    Thread.Yield();
                }
            }
        });
        producer.Start();

        uint expected = 0;
        while (expected < count)
        {
            if (server.ReceiveQueue.TryPop(out QueueElement e))
            {
                Assert.Equal(new QueueElement(expected, ~expected, expected & 1), e);
                expected++;
            }
            else
            {
                Thread.Yield();
            }
        }

        Assert.True(producer.Join(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, server.ReceiveQueue.Count);
    }
}
