using System.Security.Cryptography;
using System.Text.Json;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using static Shmipc.Channels.Tests.Vectors.ShmVectors;

namespace Shmipc.Channels.Tests.Vectors;

/// <summary>
/// (b) Messages written by a Go client: map the dumped region and queue as the server would, pop the elements,
/// read the chains with the hardened reader, check every payload byte, then recycle.
/// </summary>
public sealed unsafe class ShmMessageVectorTests
{
    [Fact]
    public void Scenario_B_msg1_single_slice_of_3000_bytes()
    {
        using JsonDocument dumps = Json("B_small_dumps.json");
        JsonElement[] messages = [.. dumps.RootElement.GetProperty("messages").EnumerateArray()];
        using NativeBuffer region = Image("shm/B_small_region_after_msg1_3000.bin");
        using NativeBuffer queue = Image("shm/B_small_queue_q16_after_msg1_3000.bin");

        BufferManager m = ConsumeAsServer(region, queue, messages[..1]);

        Assert.Equal((502, 127), (m.GetList(0).FreeCount, m.GetList(1).FreeCount));
        Assert.Equal(-1, m.GetList(1).MapperCounter); // the server recycled one client slice
        Assert.Equal(1, m.GetList(1).CreatorCounter);
        AssertFreeListsWalk(m);
    }

    [Fact]
    public void Scenario_B_msg2_chain_of_1024_and_3976_bytes_across_two_lists()
    {
        using JsonDocument dumps = Json("B_small_dumps.json");
        JsonElement[] messages = [.. dumps.RootElement.GetProperty("messages").EnumerateArray()];
        using NativeBuffer region = Image("shm/B_small_region_after_msg2_5000_chain.bin");
        using NativeBuffer queue = Image("shm/B_small_queue_q16_after_msg2_5000_chain.bin");
        BufferManager before = BufferManager.Map(region.Address, region.Length);
        Assert.Equal((501, 125), (before.GetList(0).FreeCount, before.GetList(1).FreeCount));

        BufferManager m = ConsumeAsServer(region, queue, messages);

        Assert.Equal((502, 127), (m.GetList(0).FreeCount, m.GetList(1).FreeCount));
        Assert.Equal((-1, -2), (m.GetList(0).MapperCounter, m.GetList(1).MapperCounter));
        AssertFreeListsWalk(m);
    }

    [Fact]
    public void Scenario_A_msg3000_in_the_default_region()
    {
        using JsonDocument parts = Json("A_default_region_parts_after_msg3000.json");
        using NativeBuffer region = RegionFromParts("A_default_region_parts_after_msg3000.json", DefaultRegionSize);
        using NativeBuffer queue = Image("shm/A_default_queue_q8192_after_msg3000.bin");
        ShmInitVectorTests.AssertListsMatch(parts.RootElement.GetProperty("decoded_headers"), BufferManager.Map(region.Address, region.Length));

        BufferManager m = ConsumeAsServer(region, queue, [parts.RootElement.GetProperty("message")]);

        BufferList list0 = m.GetList(0);
        Assert.Equal((2047, 8192u, 0u), (list0.FreeCount, list0.Head, list0.Tail)); // slice 0 is the new tail
        SliceHeader oldTail = m.ReadSliceHeader(16_760_876);                          // slice 2046 now links to it
        Assert.True(oldTail.HasNext);
        Assert.Equal(0u, oldTail.Next);
        Assert.Equal(new SliceHeader(8172, 0, 0, 8192, 0), m.ReadSliceHeader(44));  // reset, next stale
    }

    /// <summary>Pops every pending C→S element as the server (mapper) and checks it against the dumped messages.</summary>
    private static BufferManager ConsumeAsServer(NativeBuffer region, NativeBuffer queue, JsonElement[] messages)
    {
        BufferManager m = BufferManager.Map(region.Address, region.Length);
        IoQueuePair pair = IoQueuePair.Map(queue.Address, queue.Length, isCreator: false, QueueLayout.Amd64);
        IoQueue receive = pair.ReceiveQueue; // first half: client → server
        Assert.True(receive.IsWorking);     // the client sent a Polling frame and the server never cleared it
        Assert.Equal(messages.Length, receive.Count);
        Span<SliceSegment> segments = stackalloc SliceSegment[8];

        foreach (JsonElement message in messages)
        {
            JsonElement expectedElement = message.GetProperty("queue_element");
            Assert.True(receive.TryPop(out QueueElement element));
            Assert.Equal(new QueueElement(expectedElement.U32("seq_id"), expectedElement.U32("offset_in_shm"), expectedElement.U32("status")), element);
            Assert.False(element.IsClose);

            JsonElement[] chain = [.. message.GetProperty("slice_chain").EnumerateArray()];
            Assert.True(m.TryReadChain(element.Offset, segments, out int count, out long total));
            Assert.Equal((chain.Length, message.I64("length")), (count, total));
            byte[] payload = new byte[total];
            int written = 0;
            for (int k = 0; k < count; k++)
            {
                JsonElement slice = chain[k];
                SliceHeader header = m.ReadSliceHeader(slice.U32("offset"));
                Assert.Equal(
                    new SliceHeader(slice.U32("cap"), slice.U32("size"), slice.U32("start"), slice.U32("next"), (byte)slice.I32("flags")),
                    header); // the last slice's next is Go's stale free-list value; the reader ignored it
                Assert.Equal(new SliceSegment(slice.U32("offset"), slice.U32("data_start_offset"), slice.I32("size")), segments[k]);
                m.GetSpan(segments[k]).CopyTo(payload.AsSpan(written));
                written += segments[k].Length;
            }

            for (int i = 0; i < payload.Length; i++)
            {
                if (payload[i] != (byte)(i % 251))
                {
                    Assert.Fail($"stream {element.StreamId}: payload byte {i} is {payload[i]}, expected {i % 251}");
                }
            }

            Assert.Equal(message.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(payload)));

            long inUse = m.InUseBytes;
            Assert.Equal(chain.Length, m.RecycleChain(element.Offset));
            Assert.Equal(inUse - chain.Sum(s => (long)s.U32("cap")), m.InUseBytes);
        }

        Assert.False(receive.TryPop(out _));
        Assert.True(receive.MarkNotWorking());
        Assert.Equal(0, m.InUseBytes);
        return m;
    }

    private static void AssertFreeListsWalk(BufferManager m)
    {
        for (int i = 0; i < m.ListCount; i++)
        {
            Assert.True(m.WalkFreeList(i, out int visited));
            Assert.Equal((int)m.GetList(i).SliceCount, visited);
        }
    }
}
