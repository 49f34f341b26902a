using System.Text.Json;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using static Shmipc.Channels.Tests.Vectors.ShmVectors;

namespace Shmipc.Channels.Tests.Vectors;

/// <summary>(c) Decode every captured queue object and compare it with the decoded JSON.</summary>
public sealed unsafe class ShmQueueVectorTests
{
    public static TheoryData<string, string> QueueDumps()
    {
        var data = new TheoryData<string, string>();
        using (JsonDocument a = Json("A_default_queues.json"))
        {
            foreach (JsonProperty file in a.RootElement.GetProperty("files").EnumerateObject())
            {
                data.Add("A_default_queues.json", file.Name);
            }
        }

        using (JsonDocument b = Json("B_small_dumps.json"))
        {
            foreach (JsonProperty file in b.RootElement.GetProperty("queues").EnumerateObject())
            {
                data.Add("B_small_dumps.json", file.Name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(QueueDumps))]
    public void Captured_queue_dump_decodes_as_in_the_json(string jsonName, string file)
    {
        using JsonDocument json = Json(jsonName);
        JsonElement dump = json.RootElement.GetProperty(jsonName.StartsWith('A') ? "files" : "queues").GetProperty(file);
        byte[] bytes = Bytes(file);

        // The server receives on the first half, the client on the second.
        AssertQueue(bytes, isCreator: false, dump.GetProperty("c2s_queue_first_half"));
        AssertQueue(bytes, isCreator: true, dump.GetProperty("s2c_queue_second_half"));
    }

    [Fact]
    public void A_close_element_is_stream_2_offset_0_status_1()
    {
        using NativeBuffer queue = Image("shm/A_default_queue_q8192_after_close_element.bin");
        IoQueue receive = IoQueuePair.Map(queue.Address, queue.Length, isCreator: false, QueueLayout.Amd64).ReceiveQueue;

        Assert.Equal((1L, 2L), (receive.Head, receive.Tail));
        Assert.True(receive.TryPop(out QueueElement close));
        Assert.Equal(QueueElement.Close(2), close);
        Assert.True(close.IsClose);
    }

    [Fact]
    public void B_full_wrapped_queue_is_full_for_the_client_and_drains_16_elements_for_the_server()
    {
        using JsonDocument dumps = Json("B_small_dumps.json");
        JsonElement[] slices = [.. dumps.RootElement.GetProperty("queue_full_element_slices").EnumerateArray()];
        byte[] bytes = Bytes("shm/B_small_queue_q16_full_wrapped.bin");

        using (NativeBuffer clientView = NativeBuffer.From(bytes))
        {
            IoQueue send = IoQueuePair.Map(clientView.Address, clientView.Length, isCreator: true, QueueLayout.Amd64).SendQueue;
            Assert.Equal((2L, 18L, 16L, 16u), (send.Head, send.Tail, send.Count, send.Capacity));
            Assert.False(send.TryPut(QueueElement.Close(4))); // why Go sent a StreamClose frame instead
            Assert.False(send.MarkWorking());                  // flag already 1: no second Polling
        }

        using NativeBuffer serverView = NativeBuffer.From(bytes);
        IoQueue receive = IoQueuePair.Map(serverView.Address, serverView.Length, isCreator: false, QueueLayout.Amd64).ReceiveQueue;
        Assert.Equal(16, slices.Length);
        foreach (JsonElement slice in slices)
        {
            JsonElement expected = slice.GetProperty("element");
            Assert.True(receive.TryPop(out QueueElement e));
            Assert.Equal(new QueueElement(4, expected.U32("offset_in_shm"), 0), e);
        }

        Assert.False(receive.TryPop(out _));
        Assert.Equal((18L, 18L), (receive.Head, receive.Tail));
        Assert.Equal(18L, BitConverter.ToInt64(serverView.Span.Slice(QueueLayout.Amd64.HeadOffset, 8))); // head written at @4
    }

    private static void AssertQueue(byte[] bytes, bool isCreator, JsonElement expected)
    {
        using NativeBuffer memory = NativeBuffer.From(bytes);
        IoQueuePair pair = IoQueuePair.Map(memory.Address, memory.Length, isCreator, QueueLayout.Amd64);
        IoQueue q = pair.ReceiveQueue;
        long half = memory.Length / 2;

        Assert.Equal(expected.I64("byte_offset"), isCreator ? half : 0);
        Assert.Equal(expected.U32("cap"), q.Capacity);
        Assert.Equal(expected.I64("head"), q.Head);
        Assert.Equal(expected.I64("tail"), q.Tail);
        Assert.Equal(expected.I32("working_flag") != 0, q.IsWorking);
        foreach (JsonElement pending in expected.GetProperty("pending_elements").EnumerateArray())
        {
            long index = q.Head;
            Assert.Equal(pending.I64("logical_index"), index);
            Assert.Equal(pending.I64("slot"), index % q.Capacity);
            Assert.Equal(pending.I64("byte_offset"), QueueLayout.HeaderSize + (pending.I64("slot") * QueueLayout.ElementSize));
            Assert.True(q.TryPop(out QueueElement e));
            Assert.Equal(new QueueElement(pending.U32("seq_id"), pending.U32("offset_in_shm"), pending.U32("status")), e);
        }

        Assert.False(q.TryPop(out _));
    }
}
