using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Memory;

public sealed unsafe class BufferListConcurrencyTests
{
    [Fact]
    public void Four_threads_pop_and_push_one_small_list_and_invariants_hold()
    {
        // 8 slices of 64 bytes; 7 can be allocated. All four threads allocate through the creator (pops of one
        // BufferList are serialised in-process against the head CAS's ABA); threads 2-3 recycle through a mapper of
        // the same memory (a second "process"), so concurrent pushes, both counters and cross-manager recycling are
        // exercised. Concurrent pops from two processes on an 8-slice list would hit the protocol's ABA window,
        // which shmipc-go shares (see BufferList.TryPop).
        const int slices = 8, iterations = 10_000, threads = 4;
        using var memory = new NativeBuffer(8 + 36 + (slices * 84));
        BufferManager creator = BufferManager.Create(memory.Address, memory.Length, [(64u, 100u)]);
        BufferManager mapper = BufferManager.Map(memory.Address, memory.Length);
        BufferList list = creator.GetList(0);
        Assert.Equal((uint)slices, list.SliceCount);
        int[] owner = new int[slices];
        int doubleHandOuts = 0, failures = 0;
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            BufferManager m = creator;
            BufferManager recycler = t < 2 ? creator : mapper;
            Span<uint> held = stackalloc uint[3];
            start.SignalAndWait();
            for (int i = 0; i < iterations; i++)
            {
                int n = 0;
                for (int k = 0; k < 1 + (i % 3); k++)
                {
                    if (m.TryAllocate(64, out uint offset))
                    {
                        int index = (int)((offset - list.RegionOffset) / list.Stride);
                        if (Interlocked.Exchange(ref owner[index], t + 1) != 0)
                        {
                            Interlocked.Increment(ref doubleHandOuts);
                        }

                        // Write into the slice: a concurrent owner would be caught by the checks below.
                        m.GetSliceData(offset).Fill((byte)t);
                        held[n++] = offset;
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }

                for (int k = 0; k < n; k++)
                {
                    int index = (int)((held[k] - list.RegionOffset) / list.Stride);
                    if (m.GetSliceData(held[k]).ContainsAnyExcept((byte)t) || Interlocked.Exchange(ref owner[index], 0) != t + 1)
                    {
                        Interlocked.Increment(ref doubleHandOuts);
                    }

                    recycler.Recycle(held[k]);
                }
            }
        })).ToList();

        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Equal(0, doubleHandOuts);
        Assert.Equal(slices, list.FreeCount);
        Assert.True(list.WalkFreeList(out int visited));
        Assert.Equal(slices, visited);
        Assert.Equal(0, list.CreatorCounter + list.MapperCounter);
        Assert.Equal(0, creator.InUseBytes);
        Assert.InRange(failures, 0, threads * iterations * 2); // contention may fail pops; never corrupts
        for (int k = 0; k < slices - 1; k++)
        {
            Assert.True(creator.TryAllocate(64, out _)); // everything is allocatable again
        }
    }
}
