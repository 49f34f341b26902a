using System.Runtime.CompilerServices;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Tests.Memory;

public sealed unsafe class ChainReaderTests : IDisposable
{
    private const int Length = 1 << 20;
    private readonly NativeBuffer _memory = new(Length);
    private readonly BufferManager _m;

    public ChainReaderTests() => _m = BufferManager.Create(_memory.Address, Length, [(1024u, 50u), (4096u, 50u)]);

    public void Dispose() => _memory.Dispose();

    private uint Alloc(int size)
    {
        Assert.True(_m.TryAllocate(size, out uint offset));
        _m.SetSliceLength(offset, size);
        return offset;
    }

    private void Link(uint from, uint to)
    {
        Unsafe.WriteUnaligned(_memory.Address + from + SliceNextOffset, to);
        _memory.Address[from + SliceFlagsOffset] |= SliceFlagHasNext;
    }

    private void Write(uint offset, uint value) => Unsafe.WriteUnaligned(_memory.Address + offset, value);

    private string AssertCorrupt(uint first)
    {
        var e = Assert.Throws<ShmipcException>(() => _m.TryReadChain(first, new SliceSegment[8], out _, out _));
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, e.ErrorCode);
        var recycle = Assert.Throws<ShmipcException>(() => _m.RecycleChain(first));
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, recycle.ErrorCode);
        return e.Message;
    }

    [Fact]
    public void Reads_a_valid_chain_into_segments()
    {
        uint a = Alloc(1024), b = Alloc(3000);
        Link(a, b);
        var segments = new SliceSegment[4];

        Assert.True(_m.TryReadChain(a, segments, out int count, out long total));

        Assert.Equal((2, 4024L), (count, total));
        Assert.Equal(new SliceSegment(a, a + 20, 1024), segments[0]);
        Assert.Equal(new SliceSegment(b, b + 20, 3000), segments[1]);
    }

    [Fact]
    public void Honours_start()
    {
        uint a = Alloc(10);
        Write(a + SliceStartOffset, 100);
        SliceChainEnumerator e = _m.EnumerateChain(a);
        Assert.True(e.MoveNext());
        Assert.Equal(new SliceSegment(a, a + 120, 10), e.Current);
        Assert.False(e.MoveNext());
    }

    [Fact]
    public void Tolerates_empty_slices_inside_a_chain()
    {
        uint a = Alloc(10), b = Alloc(0), c = Alloc(5);
        Link(a, b);
        Link(b, c);
        var segments = new SliceSegment[3];

        Assert.True(_m.TryReadChain(a, segments, out int count, out long total));

        Assert.Equal((3, 15L), (count, total));
        Assert.Equal(0, segments[1].Length);
        Assert.Equal(3, _m.RecycleChain(a));
        Assert.Equal(0, _m.InUseBytes);
    }

    [Fact]
    public void Small_destination_returns_false_with_the_needed_count()
    {
        uint a = Alloc(10), b = Alloc(10), c = Alloc(10);
        Link(a, b);
        Link(b, c);
        Assert.False(_m.TryReadChain(a, new SliceSegment[2], out int count, out long total));
        Assert.Equal((3, 30L), (count, total));
    }

    [Theory]
    [InlineData(0u)]            // manager header
    [InlineData(8u)]            // list header
    [InlineData(524_132u)]      // second list header
    [InlineData(1_046_900u)]    // slack after the last list
    [InlineData(1_048_570u)]    // last bytes of the mapping
    [InlineData(2_000_000u)]    // beyond the mapping
    [InlineData(uint.MaxValue)]
    public void Rejects_offsets_outside_every_slice_region(uint offset) =>
        Assert.Contains("outside every slice region", AssertCorrupt(offset));

    [Fact]
    public void Rejects_an_offset_inside_a_slice_data_area()
    {
        uint a = Alloc(1024);
        Assert.Contains($"inside slice #0 of buffer list 0 (+20 bytes)", AssertCorrupt(a + 20));
    }

    [Fact]
    public void Rejects_a_cap_that_is_not_the_list_capacity()
    {
        uint a = Alloc(100);
        Write(a + SliceCapOffset, 4096);
        Assert.Contains("has cap 4096, but buffer list 0 has capPerBuffer 1024", AssertCorrupt(a));
    }

    [Fact]
    public void Rejects_size_above_cap()
    {
        uint a = Alloc(100);
        Write(a + SliceSizeOffset, 1025);
        Assert.Contains("size 1025 > cap 1024", AssertCorrupt(a));
    }

    [Fact]
    public void Rejects_start_plus_size_above_cap()
    {
        uint a = Alloc(100);
        Write(a + SliceStartOffset, 1000);
        Assert.Contains("start 1000 + size 100 > cap 1024", AssertCorrupt(a));
        Write(a + SliceStartOffset, uint.MaxValue); // no u32 wrap-around
        AssertCorrupt(a);
    }

    [Fact]
    public void Rejects_a_loop_and_recycles_nothing()
    {
        uint a = Alloc(10), b = Alloc(10);
        Link(a, b);
        Link(b, a);
        int free0 = _m.GetList(0).FreeCount;

        Assert.Contains("loop", AssertCorrupt(a));

        Assert.Equal(free0, _m.GetList(0).FreeCount);
        Assert.True(_m.WalkFreeList(0, out _));
    }

    [Fact]
    public void Rejects_a_self_loop_and_a_long_cycle()
    {
        uint a = Alloc(10);
        Link(a, a);
        Assert.Contains("slice #1", AssertCorrupt(a));

        Span<uint> ring = stackalloc uint[20];
        for (int i = 0; i < ring.Length; i++)
        {
            ring[i] = Alloc(1);
        }

        for (int i = 0; i < ring.Length; i++)
        {
            Link(ring[i], ring[(i + 1) % ring.Length]);
        }

        AssertCorrupt(ring[0]);
    }

    [Fact]
    public void Rejects_next_out_of_bounds_and_names_the_slice_index()
    {
        uint a = Alloc(10), b = Alloc(10);
        Link(a, b);
        Link(b, 0xFFFF_FFF0);
        string message = AssertCorrupt(a);
        Assert.Contains("slice #2", message);
        Assert.Contains("offset 4294967280", message);
    }

    [Fact]
    public void Recycle_rejects_offsets_that_are_not_slices()
    {
        uint a = Alloc(10);
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, Assert.Throws<ShmipcException>(() => _m.Recycle(a + 4)).ErrorCode);
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, Assert.Throws<ShmipcException>(() => _m.Recycle(4)).ErrorCode);
        Write(a + SliceCapOffset, 7);
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, Assert.Throws<ShmipcException>(() => _m.Recycle(a)).ErrorCode);
    }

    [Fact]
    public void Enumerator_is_allocation_free()
    {
        uint a = Alloc(10), b = Alloc(4000);
        Link(a, b);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = 0;
        for (int i = 0; i < 1000; i++)
        {
            foreach (SliceSegment s in _m.EnumerateChain(a))
            {
                total += s.Length;
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(4_010_000, total);
    }
}
