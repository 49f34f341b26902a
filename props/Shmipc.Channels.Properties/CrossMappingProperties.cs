// Property 2 — one buffer region, two mappings, four threads (docs/PROTOCOL.md §4.6–§4.8).
// Invariant: a memfd region is mapped twice (SharedRegion.CreateMemFd, and SharedRegion.OpenFd on a dup of its
// fd); BufferManager.Create runs on the first mapping and BufferManager.Map on the second. In each direction
// one thread allocates through one mapping's manager (single slices and committed chains), writes a pattern
// unique to the message into every slice, and passes the offsets through a ConcurrentQueue to a thread that
// reads the chain through the OTHER mapping's manager, verifies the bytes and recycles it there; both
// directions run at once, so both managers pop and push the same lists concurrently. Throughout, no slice is
// handed out while another owner holds it; at the end every message was verified exactly once, every list's
// size is back to its cap in both views, every free list walks cleanly from head to tail, the creator's and
// mapper's counters cancel out, and both managers still see identical lists. Each run is bounded (30 s).
using System.Collections.Concurrent;
using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Memory;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Properties;

public sealed unsafe class CrossMappingProperties
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    [Property(MaxTest = 100, Arbitrary = new[] { typeof(Generators) })]
    public Property Two_mappings_exchange_slices_both_ways_without_loss(ConcurrentScenario scenario)
    {
        using SharedRegion first = SharedRegion.CreateMemFd("shmipc-props-cross", scenario.Region.Length);
        using SharedRegion second = SharedRegion.OpenFd(Native.Dup(first.FileDescriptor), "props second mapping");
        Verify.That(first.Base != second.Base && first.Length == second.Length, $"expected two distinct mappings of {first.Length} bytes");
        ExpectedList[] lists = scenario.Region.ComputeLists()!;
        BufferManager creator = BufferManager.Create(first.Base, first.Length, scenario.Region.ToCreateArgument());
        BufferManager mapper = BufferManager.Map(second.Base, second.Length);
        ManagerAssert.SameLists(creator, mapper, "Map of the second mapping");

        var shared = new SharedState(scenario.MessagesPerDirection);
        var forward = new Direction(0, creator, mapper, scenario, shared);
        var backward = new Direction(1, mapper, creator, scenario, shared);
        Thread[] threads =
        [
            new(forward.Allocate) { IsBackground = true, Name = "props alloc creator" },
            new(forward.VerifyAndRecycle) { IsBackground = true, Name = "props verify mapper" },
            new(backward.Allocate) { IsBackground = true, Name = "props alloc mapper" },
            new(backward.VerifyAndRecycle) { IsBackground = true, Name = "props verify creator" },
        ];
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        var clock = Stopwatch.StartNew();
        foreach (Thread thread in threads)
        {
            TimeSpan left = RunTimeout - clock.Elapsed;
            if (!thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                shared.Fail($"{thread.Name} did not finish within {RunTimeout}");
            }
        }

        if (shared.Failure is not null)
        {
            foreach (Thread thread in threads)
            {
                thread.Join(RunTimeout); // _stop is set: every loop ends promptly
            }
        }

        Verify.That(shared.Failure is null, shared.Failure ?? string.Empty);
        forward.CheckAllVerified();
        backward.CheckAllVerified();
        Verify.That(shared.Outstanding.IsEmpty, $"{shared.Outstanding.Count} slices still marked as held");
        foreach (ExpectedList list in lists)
        {
            BufferList a = creator.GetList(list.Index);
            BufferList b = mapper.GetList(list.Index);
            Verify.That(a.FreeCount == (int)list.SliceCount && b.FreeCount == (int)list.SliceCount, $"list {list.Index}: size {a.FreeCount}/{b.FreeCount}, cap {list.SliceCount}");
            bool walkA = creator.WalkFreeList(list.Index, out int visitedA);
            bool walkB = mapper.WalkFreeList(list.Index, out int visitedB);
            Verify.That(walkA && walkB && visitedA == (int)list.SliceCount && visitedB == (int)list.SliceCount, $"list {list.Index}: walks ({walkA}, {visitedA}) / ({walkB}, {visitedB}), expected {list.SliceCount}");
            Verify.That(a.CreatorCounter + a.MapperCounter == 0, $"list {list.Index}: counters {a.CreatorCounter} + {a.MapperCounter} do not cancel out");
        }

        ManagerAssert.SameLists(creator, mapper, "after the run");
        return true
            .Classify(forward.AllocationWaits + backward.AllocationWaits > 0, "an allocator waited for the other side to recycle")
            .Classify(forward.Chains + backward.Chains > 0, "chains exchanged");
    }

    /// <summary>State shared by the four threads of one case.</summary>
    private sealed class SharedState
    {
        private string? _failure;
        private volatile bool _stop;

        public SharedState(int messagesPerDirection)
        {
            MessagesPerDirection = messagesPerDirection;
        }

        public int MessagesPerDirection { get; }

        /// <summary>Slice offset → tag of the message holding it, for both directions (one region).</summary>
        public ConcurrentDictionary<uint, int> Outstanding { get; } = new();

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public string? Failure => Volatile.Read(ref _failure);

        public bool Stopped => _stop || Clock.Elapsed > RunTimeout;

        public void Fail(string message)
        {
            Interlocked.CompareExchange(ref _failure, message, null);
            _stop = true;
        }
    }

    /// <summary>One direction: an allocating thread on one manager, a verifying/recycling thread on the other.</summary>
    private sealed class Direction
    {
        private readonly int _id;
        private readonly BufferManager _allocator;
        private readonly BufferManager _recycler;
        private readonly ConcurrentScenario _scenario;
        private readonly SharedState _shared;
        private readonly ConcurrentQueue<InFlightMessage> _queue = new();
        private readonly int[] _verified;
        private readonly int _maxSlice;

        public Direction(int id, BufferManager allocator, BufferManager recycler, ConcurrentScenario scenario, SharedState shared)
        {
            _id = id;
            _allocator = allocator;
            _recycler = recycler;
            _scenario = scenario;
            _shared = shared;
            _verified = new int[shared.MessagesPerDirection];
            _maxSlice = (int)allocator.MaxSliceSize;
        }

        public int AllocationWaits { get; private set; }

        public int Chains { get; private set; }

        public void CheckAllVerified()
        {
            int missing = Array.IndexOf(_verified, 0);
            Verify.That(missing < 0, $"direction {_id}: message {missing} was never verified");
        }

        public void Allocate()
        {
            try
            {
                var random = new Random(_scenario.Seed ^ (_id * 0x5F3759DF));
                var buffer = new uint[64];
                for (int sequence = 0; sequence < _shared.MessagesPerDirection && !_shared.Stopped; sequence++)
                {
                    int tag = (_id << 24) | sequence;
                    bool chain = random.Next(100) < _scenario.ChainPercent;
                    long size = chain ? random.Next(0, (3 * _maxSlice) + 1) : random.Next(0, _maxSlice + 1);
                    int count = AllocateWaiting(chain, size, buffer);
                    if (count == 0)
                    {
                        return; // stopped
                    }

                    uint[] slices = buffer[..count];
                    for (int j = 0; j < count; j++)
                    {
                        if (!_shared.Outstanding.TryAdd(slices[j], tag))
                        {
                            _shared.Fail($"direction {_id}: slice {slices[j]} handed out for message {tag:X} while message {_shared.Outstanding.GetValueOrDefault(slices[j]):X} holds it");
                            return;
                        }

                        Patterns.Fill(_allocator.GetSliceData(slices[j]), tag, j);
                    }

                    _queue.Enqueue(chain ? Commit(tag, sequence, slices, size, random) : Single(tag, sequence, slices[0], (int)size));
                }
            }
            catch (Exception e)
            {
                _shared.Fail($"allocator {_id}: {e}");
            }
        }

        public void VerifyAndRecycle()
        {
            try
            {
                var random = new Random(_scenario.Seed ^ (_id * 0x2545F491));
                int received = 0;
                var spin = default(SpinWait);
                while (received < _shared.MessagesPerDirection && !_shared.Stopped)
                {
                    if (!_queue.TryDequeue(out InFlightMessage? message))
                    {
                        spin.SpinOnce();
                        continue;
                    }

                    spin.Reset();
                    if (!Check(message, random.Next(2) == 0))
                    {
                        return;
                    }

                    received++;
                }
            }
            catch (Exception e)
            {
                _shared.Fail($"verifier {_id}: {e}");
            }
        }

        private int AllocateWaiting(bool chain, long size, uint[] buffer)
        {
            var spin = default(SpinWait);
            while (!_shared.Stopped)
            {
                if (chain)
                {
                    int count = _allocator.TryAllocateChain(size, buffer);
                    if (count > 0)
                    {
                        return count;
                    }
                }
                else if (_allocator.TryAllocate((int)size, out buffer[0]))
                {
                    return 1;
                }

                AllocationWaits++;
                spin.SpinOnce(); // the other direction's verifier recycles; Sleep(1) after a while keeps 2 cores usable
            }

            return 0;
        }

        private InFlightMessage Single(int tag, int sequence, uint slice, int size)
        {
            _allocator.SetSliceLength(slice, size);
            return new InFlightMessage(tag, sequence, [slice], [size], size, IsChain: false);
        }

        private InFlightMessage Commit(int tag, int sequence, uint[] slices, long size, Random random)
        {
            Chains++;
            long capacity = 0;
            foreach (uint slice in slices)
            {
                capacity += _allocator.GetSliceData(slice).Length;
            }

            long length = random.Next(2) == 0 ? size : random.NextInt64(0, capacity + 1);
            var lengths = new List<int>();
            long remaining = length;
            while (lengths.Count < slices.Length && (lengths.Count == 0 || remaining > 0))
            {
                int take = (int)Math.Min(_allocator.GetSliceData(slices[lengths.Count]).Length, remaining);
                lengths.Add(take);
                remaining -= take;
            }

            // CommitChain recycles the slices it does not need: they stop being ours before it runs.
            for (int j = lengths.Count; j < slices.Length; j++)
            {
                _shared.Outstanding.TryRemove(slices[j], out _);
            }

            int used = _allocator.CommitChain(slices, length);
            if (used != lengths.Count)
            {
                _shared.Fail($"direction {_id}: CommitChain({length} bytes over {slices.Length} slices) kept {used}, expected {lengths.Count}");
            }

            return new InFlightMessage(tag, sequence, slices[..lengths.Count], [.. lengths], length, IsChain: true);
        }

        private bool Check(InFlightMessage message, bool recycleAsChain)
        {
            int n = message.Slices.Length;
            var segments = new SliceSegment[n];
            bool complete = _recycler.TryReadChain(message.Slices[0], segments, out int count, out long total);
            if (!complete || count != n || total != message.Length)
            {
                _shared.Fail($"direction {_id}, message {message.Tag:X}: TryReadChain gave ({complete}, {count}, {total}), expected ({n}, {message.Length})");
                return false;
            }

            for (int j = 0; j < n; j++)
            {
                int bad = segments[j].SliceOffset == message.Slices[j] && segments[j].Length == message.Lengths[j]
                    ? Patterns.FindMismatch(_recycler.GetSpan(segments[j]), message.Tag, j)
                    : int.MaxValue;
                if (bad >= 0)
                {
                    _shared.Fail($"direction {_id}, message {message.Tag:X}: segment #{j} {segments[j]} differs from slice {message.Slices[j]} / {message.Lengths[j]} bytes (first bad byte {bad})");
                    return false;
                }
            }

            foreach (uint slice in message.Slices)
            {
                if (!_shared.Outstanding.TryRemove(slice, out int holder) || holder != message.Tag)
                {
                    _shared.Fail($"direction {_id}, message {message.Tag:X}: slice {slice} was not held by it (holder {holder:X})");
                    return false;
                }
            }

            int recycled;
            if (message.IsChain || recycleAsChain)
            {
                recycled = _recycler.RecycleChain(message.Slices[0]);
            }
            else
            {
                _recycler.Recycle(message.Slices[0]);
                recycled = 1;
            }

            if (recycled != n || Interlocked.Exchange(ref _verified[message.Sequence], 1) != 0)
            {
                _shared.Fail($"direction {_id}, message {message.Tag:X}: recycled {recycled} of {n} slices, or verified twice");
                return false;
            }

            return true;
        }
    }
}
