using System.Text.Json;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using static Shmipc.Channels.Tests.Vectors.ShmVectors;

namespace Shmipc.Channels.Tests.Vectors;

/// <summary>(a) Regions and queue objects created by us are byte-identical to the ones shmipc-go created.</summary>
public sealed unsafe class ShmInitVectorTests
{
    [Fact]
    public void Scenario_A_default_region_headers_match_the_Go_parts()
    {
        using JsonDocument parts = Json("A_default_region_parts_after_init.json");
        byte[] bin = Bytes(parts.RootElement.GetProperty("bin").GetString()!);
        using var region = new NativeBuffer(DefaultRegionSize);

        // Given unsorted on purpose: the creator sorts ascending like Go.
        BufferManager m = BufferManager.Create(region.Address, region.Length, [(131052u, 20u), (8172u, 50u), (32748u, 30u)]);

        int compared = 0;
        foreach (JsonElement part in parts.RootElement.GetProperty("index").EnumerateArray())
        {
            int regionOffset = part.I32("region_offset"), length = part.I32("length");
            AssertBytesEqual(bin.AsSpan(part.I32("file_offset"), length), region.Span.Slice(regionOffset, length),
                $"{part.GetProperty("name").GetString()} @ {regionOffset}");
            compared += length;
        }

        Assert.Equal(bin.Length, compared);
        AssertListsMatch(parts.RootElement.GetProperty("decoded_headers"), m);
        AssertListsMatch(parts.RootElement.GetProperty("decoded_headers"), BufferManager.Map(region.Address, region.Length));
    }

    [Fact]
    public void Scenario_A_default_layout_table_matches()
    {
        using JsonDocument layout = Json("default_layout.json");
        using var region = new NativeBuffer(DefaultRegionSize);
        BufferManager m = BufferManager.Create(region.Address, region.Length, [(8172u, 50u), (32748u, 30u), (131052u, 20u)]);
        JsonElement root = layout.RootElement;

        Assert.Equal(root.GetProperty("manager_header").U32("used_length"), m.UsedLength);
        Assert.Equal(root.I64("slack_after_last_list"), m.Length - 8 - m.UsedLength);
        foreach (JsonElement list in root.GetProperty("lists").EnumerateArray())
        {
            BufferList l = m.GetList(list.I32("index"));
            Assert.Equal(list.U32("header_offset"), l.ListOffset);
            Assert.Equal(list.U32("slice_region_offset"), l.RegionOffset);
            Assert.Equal(list.U32("slice_cap"), l.CapPerBuffer);
            Assert.Equal(list.U32("slice_count"), l.SliceCount);
            Assert.Equal(list.U32("stride"), l.Stride);
            Assert.Equal(list.GetProperty("end_offset").GetUInt64(), l.EndOffset);
            Assert.Equal(list.U32("last_slice_header_offset"), l.RegionOffset + ((l.SliceCount - 1) * l.Stride));
            Assert.Equal((list.U32("init_head"), list.U32("init_tail"), list.I32("init_size")), (l.Head, l.Tail, l.FreeCount));
        }
    }

    [Fact]
    public void Scenario_B_small_region_is_byte_identical_to_the_Go_image()
    {
        byte[] expected = Bytes("shm/B_small_region_after_init.bin");
        using var region = new NativeBuffer(expected.Length);

        BufferManager.Create(region.Address, region.Length, [(1024u, 50u), (4096u, 50u)]);

        AssertBytesEqual(expected, region.Span, "B_small_region_after_init.bin");
    }

    [Fact]
    public void Scenario_B_images_map_with_the_dumped_list_headers_and_valid_free_lists()
    {
        using JsonDocument dumps = Json("B_small_dumps.json");
        foreach (JsonProperty image in dumps.RootElement.GetProperty("regions").EnumerateObject())
        {
            using NativeBuffer region = Image(image.Name);
            BufferManager m = BufferManager.Map(region.Address, region.Length);
            AssertListsMatch(image.Value, m);
            for (int i = 0; i < m.ListCount; i++)
            {
                Assert.True(m.WalkFreeList(i, out int visited), $"{image.Name} list {i}");
                Assert.Equal(m.GetList(i).FreeCount, visited);
            }
        }
    }

    [Theory]
    [InlineData("shm/A_default_queue_q8192_after_init.bin", 8192u)]
    [InlineData("shm/B_small_queue_q16_after_init.bin", 16u)]
    public void Queue_pair_after_init_is_byte_identical_to_the_Go_image(string file, uint capacity)
    {
        byte[] expected = Bytes(file);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(capacity));
        memory.Span.Fill(0xCC); // Create must zero everything itself

        IoQueuePair.Create(memory.Address, memory.Length, capacity, isCreator: true, QueueLayout.Amd64);

        AssertBytesEqual(expected, memory.Span, file);
    }

    internal static void AssertListsMatch(JsonElement decoded, BufferManager m)
    {
        Assert.Equal(decoded.I32("list_count"), m.ListCount);
        Assert.Equal(decoded.U32("used_length"), m.UsedLength);
        int i = 0;
        foreach (JsonElement list in decoded.GetProperty("lists").EnumerateArray())
        {
            BufferList l = m.GetList(i++);
            Assert.Equal(list.U32("offset"), l.ListOffset);
            Assert.Equal(list.U32("region_start"), l.RegionOffset);
            Assert.Equal(list.I32("size"), l.FreeCount);
            Assert.Equal(list.U32("cap"), l.SliceCount);
            Assert.Equal(list.U32("head"), l.Head);
            Assert.Equal(list.U32("tail"), l.Tail);
            Assert.Equal(list.U32("cap_per_buffer"), l.CapPerBuffer);
            Assert.Equal(list.I32("counter_creator_at_20"), l.CreatorCounter);
            Assert.Equal(list.I32("counter_mapper_at_24"), l.MapperCounter);
            Assert.Equal(list.U32("stride"), l.Stride);
            Assert.Equal(list.GetProperty("end").GetUInt64(), l.EndOffset);
        }
    }
}
