using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Memory;

public sealed unsafe class BufferManagerTests : IDisposable
{
    private const int OneMiB = 1 << 20;
    private readonly NativeBuffer _memory = new(OneMiB);

    public void Dispose() => _memory.Dispose();

    private BufferManager CreateGoTestLayout() =>
        BufferManager.Create(_memory.Address, OneMiB, [(8192u, 50u), (4096u, 50u)]);

    [Fact]
    public void Create_1MiB_4096_8192_gives_127_and_63_slices_sorted_ascending()
    {
        BufferManager m = CreateGoTestLayout();

        Assert.Equal(2, m.ListCount);
        Assert.Equal((4096u, 127u), (m.GetList(0).CapPerBuffer, m.GetList(0).SliceCount));
        Assert.Equal((8192u, 63u), (m.GetList(1).CapPerBuffer, m.GetList(1).SliceCount));
        Assert.Equal(OneMiB - 4096 - 8192, m.CapacityInBytes);
        Assert.Equal(0, m.InUseBytes);
        Assert.Equal(190, m.TotalSliceCount);
        Assert.Equal(8192u, m.MaxSliceSize);
        Assert.True(m.IsCreator);
        BufferList l0 = m.GetList(0);
        Assert.Equal((8u, 44u, 127, 0u, 126u * 4116u), (l0.ListOffset, l0.RegionOffset, l0.FreeCount, l0.Head, l0.Tail));
        Assert.Equal(l0.EndOffset, m.GetList(1).ListOffset);
        Assert.Equal((ulong)m.UsedLength + 8, m.GetList(1).EndOffset);
        Assert.True(m.WalkFreeList(0, out int visited));
        Assert.Equal(127, visited);
        Assert.True(m.WalkFreeList(1, out _));
    }

    [Fact]
    public void Create_then_Map_sees_the_same_layout_and_counters_split_by_role()
    {
        BufferManager creator = CreateGoTestLayout();
        BufferManager mapper = BufferManager.Map(_memory.Address, OneMiB);

        Assert.False(mapper.IsCreator);
        Assert.Equal(creator.UsedLength, mapper.UsedLength);
        for (int i = 0; i < creator.ListCount; i++)
        {
            Assert.Equal(creator.GetList(i).ToString(), mapper.GetList(i).ToString());
        }

        Assert.True(creator.TryAllocate(100, out uint a));
        Assert.True(mapper.TryAllocate(100, out uint b));
        Assert.NotEqual(a, b);
        Assert.Equal((1, 1), (creator.GetList(0).CreatorCounter, creator.GetList(0).MapperCounter));
        mapper.Recycle(a); // the server recycles client slices and vice versa (§4.8)
        creator.Recycle(b);
        Assert.Equal((0, 0), (creator.GetList(0).CreatorCounter, creator.GetList(0).MapperCounter));
        Assert.Equal(127, mapper.GetList(0).FreeCount);
        Assert.True(mapper.WalkFreeList(0, out _));
    }

    [Fact]
    public void AllocRecycle_allocates_until_failure_and_recycle_restores_counts()
    {
        // Go TestBufferManager_AllocRecycle: 1 MiB, {4096:50, 8192:50}.
        BufferManager m = CreateGoTestLayout();
        var taken = new List<uint>();
        while (m.TryAllocate(4096, out uint offset))
        {
            taken.Add(offset);
        }

        Assert.Equal(126 + 62, taken.Count); // 4096 list first, then spills into 8192; one slice of each stays
        Assert.Equal(taken.Count, taken.Distinct().Count());
        Assert.False(m.TryAllocate(1, out _));
        Assert.Equal((1, 1), (m.GetList(0).FreeCount, m.GetList(1).FreeCount));
        Assert.Equal(m.GetList(0).Head, m.GetList(0).Tail);
        Assert.Equal((126L * 4096) + (62L * 8192), m.InUseBytes);
        foreach (uint offset in taken)
        {
            SliceHeader h = m.ReadSliceHeader(offset);
            Assert.True(h.InUse);
            Assert.False(h.HasNext);
            Assert.Equal(0u, h.Size);
        }

        foreach (uint offset in taken)
        {
            m.Recycle(offset);
        }

        Assert.Equal((127, 63), (m.GetList(0).FreeCount, m.GetList(1).FreeCount));
        Assert.Equal(0, m.InUseBytes);
        Assert.True(m.WalkFreeList(0, out int v0));
        Assert.True(m.WalkFreeList(1, out int v1));
        Assert.Equal((127, 63), (v0, v1));
        Assert.Equal(0, m.GetList(0).CreatorCounter);
    }

    [Fact]
    public void TryAllocate_picks_the_first_list_that_fits()
    {
        BufferManager m = CreateGoTestLayout();
        Assert.True(m.TryAllocate(0, out uint a));
        Assert.True(m.TryAllocate(4096, out uint b));
        Assert.True(m.TryAllocate(4097, out uint c));
        Assert.False(m.TryAllocate(8193, out _));
        Assert.Equal(0, m.GetList(0).Index);
        Assert.True(m.GetList(0).ContainsOffset(a));
        Assert.True(m.GetList(0).ContainsOffset(b));
        Assert.True(m.GetList(1).ContainsOffset(c));
        Assert.Equal(m.GetList(0).RegionOffset, a);
        Assert.Equal(4096, m.GetSliceData(a).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.TryAllocate(-1, out _));
    }

    [Fact]
    public void The_last_free_slice_is_never_handed_out()
    {
        using var memory = new NativeBuffer(8 + 36 + (5 * 84));
        BufferManager m = BufferManager.Create(memory.Address, memory.Length, [(64u, 100u)]);
        Assert.Equal(5u, m.GetList(0).SliceCount);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(m.TryAllocate(64, out _));
        }

        Assert.False(m.TryAllocate(64, out _));
        Assert.False(m.TryAllocateChain(1, stackalloc uint[4]) > 0);
        Assert.Equal(1, m.GetList(0).FreeCount);
        Assert.Equal(m.GetList(0).Head, m.GetList(0).Tail);
    }

    [Fact]
    public void Chain_of_256KiB_uses_the_largest_slices_and_round_trips()
    {
        BufferManager m = CreateGoTestLayout();
        const int size = 256 * 1024;
        Span<uint> slices = stackalloc uint[64];

        int n = m.TryAllocateChain(size, slices);

        Assert.Equal(32, n); // 32 × 8192
        Assert.Equal(63 - 32, m.GetList(1).FreeCount);
        WriteMod251(m, slices[..n], size);
        Assert.Equal(32, m.CommitChain(slices[..n], size));
        AssertChainIsMod251(m, slices[0], size, expectedSegments: 32);
        for (int i = 0; i < n; i++)
        {
            SliceHeader h = m.ReadSliceHeader(slices[i]);
            Assert.Equal(i < n - 1, h.HasNext);
            Assert.True(h.InUse);
            if (i < n - 1)
            {
                Assert.Equal(slices[i + 1], h.Next); // absolute
            }
        }

        Assert.Equal(32, m.RecycleChain(slices[0]));
        Assert.Equal(63, m.GetList(1).FreeCount);
        Assert.True(m.WalkFreeList(1, out _));
    }

    [Fact]
    public void Chain_larger_than_the_largest_list_spills_into_smaller_lists()
    {
        BufferManager m = CreateGoTestLayout();
        const int size = (62 * 8192) + (10 * 4096) + 100;
        Span<uint> slices = stackalloc uint[128];

        int n = m.TryAllocateChain(size, slices);

        Assert.Equal(62 + 11, n);
        Assert.Equal((1, 127 - 11), (m.GetList(1).FreeCount, m.GetList(0).FreeCount));
        WriteMod251(m, slices[..n], size);
        m.CommitChain(slices[..n], size);
        AssertChainIsMod251(m, slices[0], size, expectedSegments: n);
        Assert.Equal(n, m.RecycleChain(slices[0]));
        Assert.Equal(0, m.InUseBytes);
    }

    [Fact]
    public void TryAllocateChain_is_all_or_nothing()
    {
        BufferManager m = CreateGoTestLayout();
        Assert.Equal(0, m.TryAllocateChain(m.CapacityInBytes, stackalloc uint[256])); // the last slices are untouchable
        Assert.Equal(0, m.TryAllocateChain(5 * 8192, stackalloc uint[4]));            // span too small
        Assert.Equal(0, m.TryAllocateChain(1, []));
        Assert.Equal(0, m.InUseBytes);
        Assert.True(m.WalkFreeList(0, out _));
        Assert.True(m.WalkFreeList(1, out _));
    }

    [Fact]
    public void CommitChain_links_only_used_slices_recycles_the_rest_and_clears_HasNext_on_the_last()
    {
        BufferManager m = CreateGoTestLayout();
        Span<uint> slices = stackalloc uint[3];
        Assert.True(m.TryAllocate(8192, out slices[0]));
        Assert.True(m.TryAllocate(8192, out slices[1]));
        Assert.True(m.TryAllocate(8192, out slices[2]));
        m.LinkChain(slices); // as if the writer had linked everything (Go's dangling-hasNext situation)

        Assert.Equal(2, m.CommitChain(slices, 8192 + 10));

        Assert.False(m.ReadSliceHeader(slices[1]).HasNext);
        Assert.Equal(10u, m.ReadSliceHeader(slices[1]).Size);
        Assert.Equal(61, m.GetList(1).FreeCount);
        Assert.True(m.TryReadChain(slices[0], stackalloc SliceSegment[4], out int count, out long total));
        Assert.Equal((2, 8202L), (count, total));
        uint[] copy = slices.ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => m.CommitChain(copy.AsSpan(0, 1), 8193));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.SetSliceLength(copy[0], 8193));
    }

    [Fact]
    public void Zero_length_message_is_one_empty_slice()
    {
        BufferManager m = CreateGoTestLayout();
        Span<uint> slices = stackalloc uint[2];
        Assert.Equal(1, m.TryAllocateChain(0, slices));
        Assert.Equal(1, m.CommitChain(slices[..1], 0));
        Assert.True(m.TryReadChain(slices[0], stackalloc SliceSegment[1], out int count, out long total));
        Assert.Equal((1, 0L), (count, total));
    }

    [Fact]
    public void Free_list_walk_holds_after_random_operations()
    {
        BufferManager m = CreateGoTestLayout();
        var random = new Random(4242);
        var held = new List<uint>();
        Span<uint> chain = stackalloc uint[64];
        for (int step = 0; step < 3000; step++)
        {
            int op = random.Next(4);
            if (op == 0 && m.TryAllocate(random.Next(8193), out uint offset))
            {
                held.Add(offset);
            }
            else if (op == 1)
            {
                int n = m.TryAllocateChain(random.Next(64 * 1024), chain);
                int used = n == 0 ? 0 : m.CommitChain(chain[..n], random.Next(n * 4096 / 2));
                if (used > 0)
                {
                    Assert.Equal(used, m.RecycleChain(chain[0]));
                }
            }
            else if (held.Count > 0)
            {
                int i = random.Next(held.Count);
                m.Recycle(held[i]);
                held[i] = held[^1];
                held.RemoveAt(held.Count - 1);
            }

            if (step % 100 == 0)
            {
                Assert.True(m.WalkFreeList(0, out _));
                Assert.True(m.WalkFreeList(1, out _));
            }
        }

        long inUse = held.Sum(o => (long)m.ReadSliceHeader(o).Cap);
        Assert.Equal(inUse, m.InUseBytes);
        Assert.Equal(held.Count, held.Distinct().Count());
        held.ForEach(m.Recycle);
        Assert.Equal((127, 63), (m.GetList(0).FreeCount, m.GetList(1).FreeCount));
        Assert.True(m.WalkFreeList(0, out _));
        Assert.True(m.WalkFreeList(1, out _));
    }

    [Fact]
    public void Create_rejects_layouts_that_do_not_work()
    {
        AssertInvalid(() => BufferManager.Create(_memory.Address, OneMiB, []));
        AssertInvalid(() => BufferManager.Create(_memory.Address, OneMiB, [(4096u, 50u), (8192u, 40u)]));
        AssertInvalid(() => BufferManager.Create(_memory.Address, OneMiB, [(4096u, 60u), (8192u, 60u)]));
        AssertInvalid(() => BufferManager.Create(_memory.Address, OneMiB, [(0u, 100u)]));
        AssertInvalid(() => BufferManager.Create(_memory.Address, OneMiB, [(OneMiB, 100u)]));          // n == 0
        AssertInvalid(() => BufferManager.Create(_memory.Address, OneMiB, [(1024u, 99u), (131052u, 1u)])); // n == 0
        AssertInvalid(() => BufferManager.Create(_memory.Address, 40, [(64u, 100u)]));                 // headers do not fit
        AssertInvalid(() => BufferManager.Create(_memory.Address, 5L << 32, [(64u, 100u)]));           // offsets are u32

        static void AssertInvalid(Action create) =>
            Assert.Equal(ShmipcErrorCode.InvalidConfiguration, Assert.Throws<ShmipcException>(create).ErrorCode);
    }

    [Fact]
    public void Metrics_follow_allocations()
    {
        BufferManager m = CreateGoTestLayout();
        Assert.True(m.TryAllocate(10, out uint a));
        Assert.True(m.TryAllocate(5000, out uint b));
        Assert.Equal(4096 + 8192, m.InUseBytes);
        m.Recycle(a);
        m.Recycle(b);
        Assert.Equal(0, m.InUseBytes);
    }

    internal static void WriteMod251(BufferManager m, ReadOnlySpan<uint> slices, long size)
    {
        long written = 0;
        foreach (uint slice in slices)
        {
            Span<byte> data = m.GetSliceData(slice);
            for (int i = 0; i < data.Length && written < size; i++, written++)
            {
                data[i] = (byte)(written % 251);
            }
        }
    }

    internal static void AssertChainIsMod251(BufferManager m, uint first, long size, int expectedSegments)
    {
        var segments = new SliceSegment[expectedSegments];
        Assert.True(m.TryReadChain(first, segments, out int count, out long total));
        Assert.Equal((expectedSegments, size), (count, total));
        long index = 0;
        foreach (SliceSegment segment in segments)
        {
            Span<byte> data = m.GetSpan(segment);
            for (int i = 0; i < data.Length; i++, index++)
            {
                if (data[i] != (byte)(index % 251))
                {
                    Assert.Fail($"byte {index} is {data[i]}, expected {index % 251}");
                }
            }
        }

        Assert.Equal(size, index);
    }
}
