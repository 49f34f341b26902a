using System.Runtime.CompilerServices;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

/// <summary>
/// Runs buffer-manager operations against a real region and a plain in-memory model side by side (docs/PROTOCOL.md
/// §4.6–§4.7), checking after every step that both agree.
/// </summary>
/// <remarks>
/// The model predicts exactly which list each allocation comes from (single-threaded, pop succeeds iff the list
/// has at least 2 free slices, since the last free slice is never handed out), how many slices a chain takes,
/// and how many CommitChain keeps. It does not model the order of the free lists: it checks them by walking.
/// Every allocated slice's whole data area is filled with a pattern unique to the allocation and re-checked
/// when it is recycled, so two owners of one slice would also show up as overwritten data.
/// </remarks>
internal sealed unsafe class BufferManagerModel
{
    private readonly byte* _base;
    private readonly long _length;
    private readonly BufferManager _creator;
    private readonly ExpectedList[] _lists;
    private readonly List<HeldAllocation> _held = [];
    private readonly HashSet<uint> _heldSlices = [];
    private readonly uint _maxSliceSize;
    private readonly long _totalSlices;
    private BufferManager _mapper;
    private int _nextStamp = 1;
    private int _step;
    private string _current = "start";

    public BufferManagerModel(byte* baseAddress, long length, BufferManager creator, BufferManager mapper, ExpectedList[] lists)
    {
        _base = baseAddress;
        _length = length;
        _creator = creator;
        _mapper = mapper;
        _lists = lists;
        _maxSliceSize = lists.Max(l => l.CapPerBuffer);
        _totalSlices = lists.Sum(l => (long)l.SliceCount);
    }

    public int MaxHeldSlices { get; private set; }

    public int FailedAllocations { get; private set; }

    /// <summary>Some list was down to its one untouchable free slice at some step.</summary>
    public bool DrainedAList { get; private set; }

    public void Apply(BufferOp op)
    {
        _step++;
        _current = op.ToString();
        switch (op.Kind)
        {
            case BufferOpKind.Alloc:
                Alloc(op);
                break;
            case BufferOpKind.AllocChain:
                AllocChain(op);
                break;
            case BufferOpKind.Recycle:
                Recycle(op);
                break;
            case BufferOpKind.Commit:
                Commit(op);
                break;
            case BufferOpKind.Remap:
                _mapper = BufferManager.Map(_base, _length);
                ManagerAssert.SameLists(_creator, _mapper, $"step {_step} remap");
                break;
        }

        CheckInvariants(walk: _totalSlices <= 4096 || _step % 16 == 0);
    }

    /// <summary>Recycles everything still held, then checks that every list is whole again and hands out every slice.</summary>
    public void Finish()
    {
        int i = 0;
        while (_held.Count > 0)
        {
            Apply(new BufferOp(BufferOpKind.Recycle, i, 0, ViaMapper: i % 2 == 1, 0));
            i++;
        }

        _current = "finish";
        CheckInvariants(walk: true);
        foreach (ExpectedList list in _lists)
        {
            Check(list.Free == (int)list.SliceCount, $"list {list.Index}: {list.Free} of {list.SliceCount} slices free after recycling everything");
            Check(list.CreatorCounter + list.MapperCounter == 0, $"list {list.Index}: counters {list.CreatorCounter} + {list.MapperCounter} do not cancel out");
            DrainAndRefill(list);
        }

        CheckInvariants(walk: true);
        ManagerAssert.SameLists(_creator, BufferManager.Map(_base, _length), "after the scenario");
    }

    private BufferManager Manager(bool viaMapper) => viaMapper ? _mapper : _creator;

    private void Alloc(BufferOp op)
    {
        int expected = PredictSingle(op.Size);
        bool ok = Manager(op.ViaMapper).TryAllocate(op.Size, out uint offset);
        Check(ok == expected >= 0, $"TryAllocate returned {ok}; the model expected {(expected >= 0 ? $"a slice of list {expected}" : "failure")}");
        if (ok)
        {
            Hold([offset], [expected], op.ViaMapper);
        }
        else
        {
            FailedAllocations++;
        }
    }

    private void AllocChain(BufferOp op)
    {
        int[] expected = PredictChain(op.Size, op.SpanLimit);
        var offsets = new uint[op.SpanLimit];
        int count = Manager(op.ViaMapper).TryAllocateChain(op.Size, offsets);
        Check(count == expected.Length, $"TryAllocateChain returned {count} slices; the model expected {expected.Length} (lists {string.Join(",", expected)})");
        if (count > 0)
        {
            Hold(offsets[..count], expected, op.ViaMapper);
        }
        else
        {
            FailedAllocations++;
        }
    }

    private void Commit(BufferOp op)
    {
        List<HeldAllocation> candidates = _held.Where(h => !h.Committed).ToList();
        if (candidates.Count == 0)
        {
            return;
        }

        HeldAllocation item = candidates[op.Pick % candidates.Count];
        long capacity = item.Lists.Sum(l => (long)_lists[l].CapPerBuffer);
        long length = op.Size % (capacity + 1);

        var lengths = new List<int>();
        long remaining = length;
        while (lengths.Count < item.Slices.Length && (lengths.Count == 0 || remaining > 0))
        {
            int take = (int)Math.Min(_lists[item.Lists[lengths.Count]].CapPerBuffer, remaining);
            lengths.Add(take);
            remaining -= take;
        }

        int used = Manager(op.ViaMapper).CommitChain(item.Slices, length);
        Check(used == lengths.Count, $"CommitChain({length} bytes over {item.Slices.Length} slices) kept {used} slices; the model expected {lengths.Count}");
        for (int j = used; j < item.Slices.Length; j++)
        {
            Release(item.Slices[j], item.Lists[j], op.ViaMapper);
        }

        item.Slices = item.Slices[..used];
        item.Lists = item.Lists[..used];
        item.Lengths = [.. lengths];
        item.MessageLength = length;
        item.Committed = true;
        VerifyCommitted(item, Manager(!op.ViaMapper));
    }

    private void Recycle(BufferOp op)
    {
        if (_held.Count == 0)
        {
            return;
        }

        int index = op.Pick % _held.Count;
        HeldAllocation item = _held[index];
        _held.RemoveAt(index);
        BufferManager manager = Manager(op.ViaMapper);
        for (int j = 0; j < item.Slices.Length; j++)
        {
            int bad = Patterns.FindMismatch(manager.GetSliceData(item.Slices[j]), item.Stamp, j);
            Check(bad < 0, $"data of held slice {item.Slices[j]} (#{j} of allocation {item.Stamp}) was overwritten at byte {bad}");
        }

        if (item.Committed || (item.Slices.Length == 1 && op.Size % 2 == 0))
        {
            if (item.Committed)
            {
                VerifyCommitted(item, manager);
            }

            int recycled = manager.RecycleChain(item.Slices[0]);
            Check(recycled == item.Slices.Length, $"RecycleChain returned {recycled}, the chain has {item.Slices.Length} slices");
        }
        else
        {
            foreach (uint slice in item.Slices)
            {
                manager.Recycle(slice);
            }
        }

        for (int j = 0; j < item.Slices.Length; j++)
        {
            Release(item.Slices[j], item.Lists[j], op.ViaMapper);
        }
    }

    private int PredictSingle(long size)
    {
        if (size > _maxSliceSize)
        {
            return -1;
        }

        foreach (ExpectedList list in _lists)
        {
            if (size <= list.CapPerBuffer && list.Free >= 2)
            {
                return list.Index;
            }
        }

        return -1;
    }

    /// <summary>One slice if possible, else largest list first while bytes are missing (Go allocShmBuffers); all or nothing.</summary>
    private int[] PredictChain(long size, int limit)
    {
        int single = PredictSingle(size);
        if (single >= 0)
        {
            return [single];
        }

        int[] free = _lists.Select(l => l.Free).ToArray();
        var taken = new List<int>();
        long remaining = size;
        for (int i = _lists.Length - 1; i >= 0 && remaining > 0; i--)
        {
            while (remaining > 0 && taken.Count < limit && free[i] >= 2)
            {
                taken.Add(i);
                free[i]--;
                remaining -= _lists[i].CapPerBuffer;
            }
        }

        return remaining > 0 ? [] : [.. taken];
    }

    private void Hold(uint[] offsets, int[] lists, bool viaMapper)
    {
        int stamp = _nextStamp++;
        BufferManager manager = Manager(viaMapper);
        for (int j = 0; j < offsets.Length; j++)
        {
            ExpectedList list = _lists[lists[j]];
            uint offset = offsets[j];
            Check(list.IsSliceHeader(offset), $"slice #{j} at {offset} is not a slice header of list {list.Index} ({list})");
            Check(_heldSlices.Add(offset), $"slice {offset} was handed out while it is still held");
            SliceHeader header = manager.ReadSliceHeader(offset);
            Check(
                header.Cap == list.CapPerBuffer && header.Size == 0 && header.Start == 0 && header.Flags == BufferManagerLayout.SliceFlagInUse,
                $"freshly allocated slice {offset} has header {header}; expected cap {list.CapPerBuffer}, size 0, start 0, flags InUse only");
            Span<byte> data = manager.GetSliceData(offset);
            Check(data.Length == list.CapPerBuffer, $"GetSliceData({offset}) has {data.Length} bytes, not {list.CapPerBuffer}");
            Patterns.Fill(data, stamp, j);
            list.Free--;
            if (viaMapper)
            {
                list.MapperCounter++;
            }
            else
            {
                list.CreatorCounter++;
            }
        }

        _held.Add(new HeldAllocation(offsets, lists, stamp));
    }

    private void Release(uint offset, int listIndex, bool viaMapper)
    {
        ExpectedList list = _lists[listIndex];
        Check(_heldSlices.Remove(offset), $"released slice {offset} was not held");
        list.Free++;
        if (viaMapper)
        {
            list.MapperCounter--;
        }
        else
        {
            list.CreatorCounter--;
        }
    }

    private void VerifyCommitted(HeldAllocation item, BufferManager reader)
    {
        int n = item.Slices.Length;
        var segments = new SliceSegment[n];
        bool complete = reader.TryReadChain(item.Slices[0], segments, out int count, out long total);
        Check(complete && count == n && total == item.MessageLength, $"TryReadChain gave ({complete}, {count} slices, {total} bytes); expected ({n} slices, {item.MessageLength} bytes)");
        for (int j = 0; j < n; j++)
        {
            var expected = new SliceSegment(item.Slices[j], item.Slices[j] + 20, item.Lengths[j]);
            Check(segments[j] == expected, $"segment #{j} is {segments[j]}, expected {expected}");
            int bad = Patterns.FindMismatch(reader.GetSpan(segments[j]), item.Stamp, j);
            Check(bad < 0, $"segment #{j} data differs at byte {bad}");
            SliceHeader header = reader.ReadSliceHeader(item.Slices[j]);
            bool last = j == n - 1;
            Check(header.HasNext == !last && (last || header.Next == item.Slices[j + 1]) && header.InUse, $"slice #{j} header {header} is not linked as #{j} of {n}");
        }

        int walked = 0;
        foreach (SliceSegment segment in reader.EnumerateChain(item.Slices[0]))
        {
            Check(walked < n && segment == segments[walked], $"EnumerateChain yielded {segment} as #{walked}");
            walked++;
        }

        Check(walked == n, $"EnumerateChain yielded {walked} segments, expected {n}");
        if (n > 1)
        {
            bool fits = reader.TryReadChain(item.Slices[0], new SliceSegment[n - 1], out int count2, out long total2);
            Check(!fits && count2 == n && total2 == total, $"TryReadChain into {n - 1} entries gave ({fits}, {count2}, {total2}); expected (False, {n}, {total})");
        }
    }

    private void DrainAndRefill(ExpectedList expected)
    {
        BufferList list = _creator.GetList(expected.Index);
        var taken = new List<uint>();
        var distinct = new HashSet<uint>();
        while (taken.Count <= expected.SliceCount && list.TryPop(out uint offset))
        {
            Check(expected.IsSliceHeader(offset) && distinct.Add(offset), $"draining list {expected.Index}: slice {offset} is invalid or came twice");
            taken.Add(offset);
        }

        Check(taken.Count == expected.SliceCount - 1, $"draining list {expected.Index} gave {taken.Count} slices, expected every slice but the last ({expected.SliceCount - 1})");
        Check(list.Head == list.Tail && list.FreeCount == 1 && !distinct.Contains(expected.RegionOffset + list.Head), $"drained list {expected.Index}: head {list.Head}, tail {list.Tail}, size {list.FreeCount}");
        expected.CreatorCounter += taken.Count;
        foreach (uint offset in taken)
        {
            _mapper.Recycle(offset);
        }

        expected.MapperCounter -= taken.Count;
        Check(list.FreeCount == (int)expected.SliceCount, $"list {expected.Index} has {list.FreeCount} free after refilling, expected {expected.SliceCount}");
    }

    private void CheckInvariants(bool walk)
    {
        var heldPerList = new int[_lists.Length];
        var all = new List<(uint Offset, ExpectedList List)>(_heldSlices.Count);
        foreach (HeldAllocation item in _held)
        {
            for (int j = 0; j < item.Slices.Length; j++)
            {
                heldPerList[item.Lists[j]]++;
                all.Add((item.Slices[j], _lists[item.Lists[j]]));
            }
        }

        Check(all.Count == _heldSlices.Count, $"{all.Count} held slices in allocations but {_heldSlices.Count} distinct");
        long inUse = 0;
        foreach (ExpectedList e in _lists)
        {
            BufferList real = _creator.GetList(e.Index);
            Check(real.FreeCount == e.Free && _mapper.GetList(e.Index).FreeCount == e.Free, $"list {e.Index}: size field {real.FreeCount}, model {e.Free}");
            Check(e.Free + heldPerList[e.Index] == e.SliceCount, $"list {e.Index}: {e.Free} free + {heldPerList[e.Index]} held != {e.SliceCount}");
            Check(real.CreatorCounter == e.CreatorCounter && real.MapperCounter == e.MapperCounter, $"list {e.Index}: counters {real.CreatorCounter}/{real.MapperCounter}, model {e.CreatorCounter}/{e.MapperCounter}");
            inUse += (long)heldPerList[e.Index] * e.CapPerBuffer;
            DrainedAList |= e.Free == 1 && _step > 0 && _current != "finish";
            if (walk)
            {
                bool creatorWalk = _creator.WalkFreeList(e.Index, out int visited);
                bool mapperWalk = _mapper.WalkFreeList(e.Index, out int visited2);
                Check(creatorWalk && mapperWalk && visited == e.Free && visited2 == e.Free, $"list {e.Index}: free-list walk ({creatorWalk}, {visited}) / ({mapperWalk}, {visited2}), expected {e.Free} slices ending at tail");
            }
        }

        Check(_creator.InUseBytes == inUse, $"InUseBytes {_creator.InUseBytes}, model {inUse}");
        all.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        for (int i = 0; i < all.Count; i++)
        {
            (uint offset, ExpectedList list) = all[i];
            Check(list.IsSliceHeader(offset) && offset + (ulong)list.Stride <= (ulong)_length, $"held slice {offset} is not a slice of list {list.Index} inside the mapping");
            if (i > 0)
            {
                (uint previous, ExpectedList previousList) = all[i - 1];
                Check((ulong)previous + previousList.Stride <= offset, $"held slices overlap: [{previous}, +{previousList.Stride}) and [{offset}, +{list.Stride})");
            }
        }

        MaxHeldSlices = Math.Max(MaxHeldSlices, all.Count);
    }

    private void Check(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref CheckMessage message)
    {
        if (!condition)
        {
            throw new PropertyFailure($"step {_step} ({_current}): {message.ToStringAndClear()}");
        }
    }
}
