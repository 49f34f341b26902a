namespace Shmipc.Channels.Memory;

/// <summary>
/// Allocation-free, validating walk over a received slice chain (docs/PROTOCOL.md §4.8 "a hardened reader").
/// </summary>
/// <remarks>
/// For slice #k at offset o it checks: o is a slice header of some list (inside a slice region,
/// <c>(o − R) % stride == 0</c>), the header's cap equals that list's capPerBuffer, and <c>start + size ≤ cap</c>.
/// The walk stops after the slice without HasNext (its stale <c>next</c> is ignored). Termination and loops:
/// a walk longer than the region's total slice count is rejected, and Brent's cycle detection (one remembered
/// offset, O(1) memory) reports a loop such as A→B→A within about twice its length. Reads are plain: the queue
/// tail increment that announced the message published the headers.
/// </remarks>
internal ref struct SliceChainEnumerator
{
    private readonly BufferManager _manager;
    private readonly uint _first;
    private uint _next;
    private bool _hasNext;
    private long _index;
    private uint _mark;
    private long _power;
    private long _lambda;
    private SliceSegment _current;

    internal SliceChainEnumerator(BufferManager manager, uint firstOffset)
    {
        _manager = manager;
        _first = firstOffset;
        _next = firstOffset;
        _hasNext = true;
        _index = 0;
        _mark = firstOffset;
        _power = 1;
        _lambda = 0;
        _current = default;
    }

    /// <summary>The segment of the slice just validated.</summary>
    public readonly SliceSegment Current => _current;

    /// <summary>Returns this enumerator (for <c>foreach</c>).</summary>
    public readonly SliceChainEnumerator GetEnumerator() => this;

    /// <summary>Validates the next slice of the chain.</summary>
    /// <exception cref="ShmipcException">CorruptSharedMemory, naming the offset and the slice index.</exception>
    public bool MoveNext()
    {
        if (!_hasNext)
        {
            return false;
        }

        uint offset = _next;
        if (_index > 0)
        {
            if (offset == _mark)
            {
                MemoryThrowHelper.ThrowCorrupt(
                    $"chain starting at {_first}: slice #{_index} links back to offset {offset}, which the chain already visited (loop)");
            }

            if (_index >= _manager.TotalSliceCount)
            {
                MemoryThrowHelper.ThrowCorrupt(
                    $"chain starting at {_first}: slice #{_index} at offset {offset} exceeds the region's {_manager.TotalSliceCount} slices (loop)");
            }

            if (++_lambda == _power)
            {
                _mark = offset;
                _power *= 2;
                _lambda = 0;
            }
        }

        BufferList? list = _manager.FindSlice(offset, out SliceProblem problem);
        if (problem != SliceProblem.None)
        {
            throw _manager.CreateSliceProblem(problem, offset, list, $"chain starting at {_first}, slice #{_index}");
        }

        // Bound start + size by the list's capacity (process-local), not by the header's cap: the peer can rewrite
        // the header between FindSlice's check and this read.
        SliceHeader header = _manager.ReadSliceHeader(offset);
        uint cap = list!.CapPerBuffer;
        if ((ulong)header.Start + header.Size > cap)
        {
            MemoryThrowHelper.ThrowCorrupt(
                $"chain starting at {_first}, slice #{_index}: slice at offset {offset} has start {header.Start} + size {header.Size} > cap {cap}");
        }

        _current = new SliceSegment(offset, offset + (uint)BufferManagerLayout.SliceHeaderSize + header.Start, (int)header.Size);
        _hasNext = header.HasNext;
        _next = header.Next;
        _index++;
        return true;
    }
}
