using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

/// <summary>
/// Everything a peer does with a buffer region after mapping it, run against a region that Map accepted but
/// whose contents are hostile: each step may throw CorruptSharedMemory, nothing else, and everything it hands
/// out (slice offsets, data spans, chain segments) lies inside the mapping and inside one slice.
/// </summary>
internal sealed class HostileRegionExercise
{
    private readonly BufferManager _manager;
    private readonly long _length;
    private readonly Random _random;
    private readonly string _what;

    public HostileRegionExercise(BufferManager manager, long length, int seed, string what)
    {
        _manager = manager;
        _length = length;
        _random = new Random(seed);
        _what = what;
    }

    /// <summary>Steps that ended in CorruptSharedMemory.</summary>
    public int CorruptSteps { get; private set; }

    public int Pops { get; private set; }

    public void Run()
    {
        CheckStructure();
        var popped = new List<uint>();
        for (int i = 0; i < _manager.ListCount; i++)
        {
            BufferList list = _manager.GetList(i);
            bool more = true;
            for (long budget = list.SliceCount + 2L; more && budget > 0; budget--)
            {
                more = false;
                Guard("TryPop", () =>
                {
                    if (list.TryPop(out uint offset))
                    {
                        CheckSlice(offset, "TryPop");
                        popped.Add(offset);
                        more = true;
                    }
                });
            }

            Guard("WalkFreeList", () => _manager.WalkFreeList(list.Index, out _));
        }

        Pops = popped.Count;
        List<uint> distinct = popped.Distinct().ToList();
        foreach (uint offset in distinct)
        {
            Guard("write a popped slice", () =>
            {
                Span<byte> data = _manager.GetSliceData(offset);
                data.Fill(0xA5);
                _manager.SetSliceLength(offset, Math.Min(data.Length, 17));
                _ = _manager.ReadSliceHeader(offset);
            });
        }

        for (int k = 0; k < 16; k++)
        {
            bool fromPopped = distinct.Count > 0 && k % 2 == 0;
            uint start = fromPopped ? distinct[_random.Next(distinct.Count)] : (uint)_random.NextInt64(0, _length + 64);
            Guard("EnumerateChain", () => ReadChain(start), counts: fromPopped); // a random start is expected to be refused
        }

        foreach (uint offset in distinct)
        {
            Guard("Recycle", () => _manager.Recycle(offset));
        }

        for (int k = 0; k < 8; k++)
        {
            int size = _random.Next(0, (int)Math.Min(_manager.MaxSliceSize + 2, int.MaxValue - 2));
            Guard("TryAllocate", () =>
            {
                if (_manager.TryAllocate(size, out uint offset))
                {
                    CheckSlice(offset, "TryAllocate");
                    _manager.Recycle(offset);
                }
            });
        }

        long chainSize = _random.NextInt64(0, (3L * _manager.MaxSliceSize) + 2);
        Guard("chain round trip", () =>
        {
            var offsets = new uint[16];
            int n = _manager.TryAllocateChain(chainSize, offsets);
            if (n > 0)
            {
                foreach (uint offset in offsets[..n])
                {
                    CheckSlice(offset, "TryAllocateChain");
                }

                _manager.CommitChain(offsets.AsSpan(0, n), chainSize);
                ReadChain(offsets[0]);
                _manager.RecycleChain(offsets[0]);
            }
        });

        for (int i = 0; i < _manager.ListCount; i++)
        {
            int index = i;
            Guard("WalkFreeList", () => _manager.WalkFreeList(index, out _));
        }

        _ = _manager.InUseBytes;
        _ = _manager.CapacityInBytes;
    }

    /// <summary>What Map promised: lists contiguous from 8, inside usedLength, inside the mapping.</summary>
    private void CheckStructure()
    {
        ulong expectedOffset = 8;
        for (int i = 0; i < _manager.ListCount; i++)
        {
            BufferList list = _manager.GetList(i);
            Verify.That(
                list.ListOffset == expectedOffset && list.RegionOffset == list.ListOffset + 36 && list.CapPerBuffer > 0 && list.SliceCount > 0 && list.Stride == list.CapPerBuffer + 20,
                $"mapped hostile region ({_what}): list {i} is {list}");
            expectedOffset = list.EndOffset;
        }

        Verify.That(expectedOffset == 8 + (ulong)_manager.UsedLength && expectedOffset <= (ulong)_length, $"mapped hostile region ({_what}): lists end at {expectedOffset}, usedLength {_manager.UsedLength}, mapping {_length}");
    }

    private void CheckSlice(uint offset, string operation)
    {
        BufferList? list = FindList(offset);
        Verify.That(
            list is not null && (offset - list.RegionOffset) % list.Stride == 0 && offset + (ulong)list.Stride <= (ulong)_length,
            $"{operation} on a hostile region ({_what}) returned offset {offset}, which is not a slice inside the mapping");
    }

    /// <summary>Walks a chain, failing if it yields more segments than the region has slices or one outside its slice.</summary>
    private void ReadChain(uint first)
    {
        long count = 0;
        foreach (SliceSegment segment in _manager.EnumerateChain(first))
        {
            count++;
            Verify.That(count <= _manager.TotalSliceCount, $"chain at {first} yielded more segments than the region's {_manager.TotalSliceCount} slices ({_what})");
            BufferList? list = FindList(segment.SliceOffset);
            Verify.That(
                list is not null
                && (segment.SliceOffset - list.RegionOffset) % list.Stride == 0
                && segment.Length >= 0
                && segment.DataOffset >= segment.SliceOffset + 20
                && (ulong)segment.DataOffset + (ulong)segment.Length <= (ulong)segment.SliceOffset + list.Stride,
                $"chain at {first}: segment {segment} is not inside one slice ({_what})");
            _ = _manager.GetSpan(segment);
        }
    }

    private BufferList? FindList(uint offset)
    {
        for (int i = 0; i < _manager.ListCount; i++)
        {
            if (_manager.GetList(i).ContainsOffset(offset))
            {
                return _manager.GetList(i);
            }
        }

        return null;
    }

    private void Guard(string operation, Action action, bool counts = true)
    {
        if (Verify.OnlyThrows(ShmipcErrorCode.CorruptSharedMemory, action, $"{operation} on a mapped hostile region ({_what})") is not null && counts)
        {
            CorruptSteps++;
        }
    }
}
