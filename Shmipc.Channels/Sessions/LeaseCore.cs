using System.Buffers;
using System.Diagnostics;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The pooled object behind a <see cref="ShmLease"/>: the slices of one message, either received (a zero-copy view
/// of the peer's bytes in shared memory, or a heap copy of fallback data) or being written (slices allocated on
/// demand, written in place).
/// </summary>
// Design:
// - A core is owned by exactly one party at a time: the pool, a session delivering it, a reader, or a writer.
//   _token changes on every return to the pool; a ShmLease carries the token it was issued with, so a stale or
//   double Dispose is a no-op (the Interlocked.CompareExchange on _token decides the single winner).
// - While rented the core holds one reference on its SharedBuffer, so the mapping outlives every lease.
// - _slices holds the slice-header offsets validated when the message arrived (or allocated when written); recycling
//   uses that list, never the chain links in shared memory, which a hostile peer could have rewritten since.
// - Leak detection: the library keeps no reference to a rented core, so a lease the user drops makes its core
//   unreachable, and the finalizer returns its slices and reports it. Cores are pooled, so the finalizer is registered
//   once per core created, not per message; cores in the pool are reachable and never finalized. Every Memory or
//   ReadOnlySequence handed out goes through a NativeMemoryManager that references its core, so a core is not
//   collected while the user still holds a view of its bytes. A core the pool discards (pool full) is Kind None and
//   its finalizer is suppressed (LeaseCorePool, which also explains the pool's bound).
// - The session counts held leases and slices (Session.CountHeld): a core adds what it takes and removes exactly
//   that (_counted, _countedSlices) when it is released, detached or reclaimed.
internal sealed unsafe class LeaseCore : IBufferWriter<byte>
{
    private const int SliceHeaderSize = 20;
    private const int MinHeapChunk = 4096;

    private uint[] _slices = new uint[4];
    private uint[] _data = new uint[4];
    private int[] _lengths = new int[4];
    private int _sliceCount;
    private readonly List<NativeMemoryManager> _managers = [];
    private readonly List<LeaseSegment> _segments = [];
    private ReadOnlySequence<byte> _sequence;
    private bool _sequenceBuilt;
    private byte[]? _heap;
    private int _heapLength;
    private int _token;
    private bool _oversize;
    private bool _counted;
    private int _countedSlices;
    private StackTrace? _origin;

    public LeaseKind Kind { get; private set; }

    public Session? Session { get; private set; }

    public SharedBuffer? Buffer { get; private set; }

    public uint StreamId { get; private set; }

    public int Token => Volatile.Read(ref _token);

    /// <summary>Bytes in the message (received) or written so far (writer).</summary>
    public int Length { get; private set; }

    public bool IsHeap => _heap is not null;

    /// <summary>
    /// The message is on the heap only because shared memory was exhausted (not because a contiguous span larger than
    /// any slice was asked for): it could still move into slices.
    /// </summary>
    public bool NeedsSlices => _heap is not null && !_oversize && _heapLength <= Buffer!.Manager.CapacityInBytes;

    public static LeaseCore Rent() => LeaseCorePool.Shared.Rent();

    /// <summary>
    /// The pool drops this idle core for good: its leak finalizer would find Kind None and do nothing, so it is taken off
    /// the finalizer queue.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA1816:Dispose methods should call SuppressFinalize", Justification = "The finalizer is the leak check of a rented core, not a Dispose pattern; a core dropped idle has nothing to check.")]
    public void Discard()
    {
        Debug.Assert(Kind == LeaseKind.None);
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts a received shared-memory message; the caller adds the validated slices.</summary>
    public void BeginReceived(Session session, SharedBuffer buffer, uint streamId)
    {
        Debug.Assert(Kind == LeaseKind.None);
        buffer.AddRef();
        Kind = LeaseKind.Received;
        Session = session;
        Buffer = buffer;
        StreamId = streamId;
    }

    /// <summary>The whole received chain is validated: the session counts the lease and its slices as held.</summary>
    public void FinishReceived()
    {
        _counted = true;
        _countedSlices = _sliceCount;
        Session!.CountHeld(1, _sliceCount);
    }

    /// <summary>Where the user rented or read this lease (<see cref="ShmipcOptions.TrackLeaseOrigins"/>).</summary>
    public void SetOrigin(StackTrace origin) => _origin = origin;

    /// <summary>Adds one validated slice of a received message.</summary>
    public void AddReceivedSlice(uint sliceOffset, uint dataOffset, int dataLength)
    {
        Append(sliceOffset, dataOffset, dataLength);
        Length += dataLength;
    }

    /// <summary>Starts a received fallback message: a private copy of the frame's payload.</summary>
    public void BeginReceivedHeap(Session session, uint streamId, ReadOnlySpan<byte> payload)
    {
        Debug.Assert(Kind == LeaseKind.None);
        Kind = LeaseKind.Received;
        Session = session;
        StreamId = streamId;
        _heap = ByteArrays.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(_heap);
        _heapLength = payload.Length;
        Length = payload.Length;
        _counted = true;
        session.CountHeld(1, 0);
    }

    /// <summary>
    /// Starts a message to write on <paramref name="streamId"/>; false (and the core back in the pool) when the
    /// buffer is already unmapped, i.e. the session closed and released it since the caller checked.
    /// </summary>
    public bool TryBeginWrite(Session session, SharedBuffer buffer, uint streamId)
    {
        Debug.Assert(Kind == LeaseKind.None);
        if (!buffer.TryAddRef())
        {
            LeaseCorePool.Shared.Return(this);
            return false;
        }

        Kind = LeaseKind.Writing;
        Session = session;
        Buffer = buffer;
        StreamId = streamId;
        _counted = true;
        session.CountHeld(1, 0);
        return true;
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        if (Kind != LeaseKind.Writing)
        {
            throw new InvalidOperationException("This lease holds a received message; only a lease from ShmipcStream.Rent can be written.");
        }

        var want = Math.Max(sizeHint, 1);
        if (_heap is not null)
        {
            EnsureHeap(want);
            return _heap.AsSpan(_heapLength);
        }

        if (_sliceCount > 0)
        {
            var free = SliceCapacity(_slices[_sliceCount - 1]) - _lengths[_sliceCount - 1];
            if (free >= want)
            {
                return SliceData(_slices[_sliceCount - 1]).Slice(_lengths[_sliceCount - 1], free);
            }
        }

        var manager = Buffer!.Manager;
        if (manager.TryAllocate(want, out var offset))
        {
            Append(offset, offset + SliceHeaderSize, 0);
            CountSlices(1);
            return SliceData(offset);
        }

        // No slice is that large: no policy can help, the message travels over the socket.
        _oversize = want > manager.MaxSliceSize;
        var session = Session!;
        session.Metrics.AllocationFailed();
        if (!_oversize && session.Options.ExhaustionPolicy == ExhaustionPolicy.FailFast)
        {
            throw new ShmipcException(
                ShmipcErrorCode.NoMoreBuffer,
                $"session {session.Name}: shared memory is exhausted, no free slice for {want} bytes (ExhaustionPolicy.FailFast). Dispose received leases sooner, enlarge BufferCapacity, or choose ExhaustionPolicy.Wait or Fallback.");
        }

        // Exhausted: keep writing to the heap, everything written so far in front. Under Fallback the message then
        // travels over the socket as FallbackData (docs/PROTOCOL.md §7); under Wait, Output waits for slices and moves it.
        SwitchToHeap(want);
        return _heap.AsSpan(_heapLength);
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var span = GetSpan(sizeHint);
        if (_heap is not null)
        {
            return _heap.AsMemory(_heapLength, span.Length);
        }

        var manager = ManagerAt(_sliceCount - 1);
        fixed (byte* p = span)
        {
            manager.Reset(p, span.Length);
        }

        return manager.Memory;
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (Kind != LeaseKind.Writing)
        {
            throw new InvalidOperationException("This lease holds a received message and cannot be advanced.");
        }

        if (_heap is not null)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _heap.Length - _heapLength);
            _heapLength += count;
        }
        else
        {
            if (_sliceCount == 0)
            {
                ArgumentOutOfRangeException.ThrowIfNotEqual(count, 0);
                return;
            }

            var last = _sliceCount - 1;
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, SliceCapacity(_slices[last]) - _lengths[last]);
            _lengths[last] += count;
        }

        Length += count;
        _sequenceBuilt = false;
    }

    /// <summary>The bytes of the message, without copying.</summary>
    public ReadOnlySequence<byte> GetSequence()
    {
        if (_sequenceBuilt)
        {
            return _sequence;
        }

        _sequence = BuildSequence();
        _sequenceBuilt = true;
        return _sequence;
    }

    /// <summary>
    /// Moves a message that went to the heap because shared memory was exhausted into slices, if enough are free now
    /// (all or nothing). Used by <see cref="ExhaustionPolicy.Wait"/> before the message is sent.
    /// </summary>
    public bool TryMoveToSharedMemory()
    {
        Debug.Assert(NeedsSlices);
        var manager = Buffer!.Manager;
        var bound = (int)Math.Min(int.MaxValue / 2, (_heapLength / manager.GetList(0).CapPerBuffer) + 2);
        for (var i = 1; i < manager.ListCount; i++)
        {
            bound = Math.Max(bound, (int)(_heapLength / manager.GetList(i).CapPerBuffer) + 2);
        }

        EnsureSliceCapacity(bound);
        var count = manager.TryAllocateChain(_heapLength, _slices.AsSpan(0, bound));
        if (count == 0)
        {
            return false;
        }

        var source = _heap.AsSpan(0, _heapLength);
        for (var i = 0; i < count; i++)
        {
            var data = SliceData(_slices[i]);
            var n = Math.Min(data.Length, source.Length);
            source[..n].CopyTo(data);
            source = source[n..];
            _data[i] = _slices[i] + SliceHeaderSize;
            _lengths[i] = n;
        }

        _sliceCount = count;
        CountSlices(count);
        ByteArrays.Return(_heap!);
        _heap = null;
        _heapLength = 0;
        _sequenceBuilt = false;
        return true;
    }

    /// <summary>Returns the core to the pool if <paramref name="token"/> is current; recycles what it still holds.</summary>
    public bool TryRelease(int token)
    {
        if (Interlocked.CompareExchange(ref _token, token + 1, token) != token)
        {
            return false;
        }

        var freed = _sliceCount > 0 ? Session : null;

        // Memory a peer truncated holds no free lists any more (the guard shows zeros there): nothing to give back.
        if (Buffer is { } buffer && !buffer.Region.WasTruncated)
        {
            for (var i = 0; i < _sliceCount; i++)
            {
                buffer.Manager.Recycle(_slices[i]);
            }
        }

        ResetAndReturn();
        freed?.OnSlicesFreed();
        return true;
    }

    /// <summary>
    /// The session took the slices (they now belong to the peer): return the core without recycling them.
    /// </summary>
    public bool TryDetach(int token)
    {
        if (Interlocked.CompareExchange(ref _token, token + 1, token) != token)
        {
            return false;
        }

        ResetAndReturn();
        return true;
    }

    /// <summary>
    /// Writer: drops the slices nothing was written to (back to the free lists), so the chain the peer reads has no
    /// empty slices (shmipc-go's reader mishandles some, docs/PROTOCOL.md §14.9), then writes sizes and links.
    /// </summary>
    /// <returns>The offset of the first slice header: the queue element's offset.</returns>
    public uint CommitWrittenChain()
    {
        var manager = Buffer!.Manager;
        var kept = 0;
        for (var i = 0; i < _sliceCount; i++)
        {
            if (_lengths[i] == 0)
            {
                manager.Recycle(_slices[i]);
                CountSlices(-1);
                continue;
            }

            _slices[kept] = _slices[i];
            _data[kept] = _data[i];
            _lengths[kept] = _lengths[i];
            manager.SetSliceLength(_slices[kept], _lengths[kept]);
            kept++;
        }

        _sliceCount = kept;
        manager.LinkChain(_slices.AsSpan(0, kept));
        return _slices[0];
    }

    private void ResetAndReturn()
    {
        Uncount();
        Buffer?.Release();
        if (_heap is not null)
        {
            ByteArrays.Return(_heap);
        }

        _heap = null;
        _heapLength = 0;
        _sliceCount = 0;
        Length = 0;
        Kind = LeaseKind.None;
        Session = null;
        Buffer = null;
        StreamId = 0;
        _sequence = default;
        _sequenceBuilt = false;
        _oversize = false;
        _origin = null;
        foreach (var s in _segments)
        {
            s.Clear();
        }

        foreach (var m in _managers)
        {
            m.Reset(null, 0);
        }

        LeaseCorePool.Shared.Return(this);
    }

    private ReadOnlySequence<byte> BuildSequence()
    {
        if (_heap is not null)
        {
            return new ReadOnlySequence<byte>(_heap, 0, _heapLength);
        }

        var first = -1;
        var nonEmpty = 0;
        for (var i = 0; i < _sliceCount; i++)
        {
            if (_lengths[i] > 0)
            {
                nonEmpty++;
                if (first < 0)
                {
                    first = i;
                }
            }
        }

        if (nonEmpty == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (nonEmpty == 1)
        {
            var m = ManagerAt(0);
            m.Reset(Buffer!.Base + _data[first], _lengths[first]);
            return new ReadOnlySequence<byte>(m.Memory);
        }

        LeaseSegment? head = null;
        LeaseSegment? tail = null;
        long running = 0;
        var k = 0;
        for (var i = 0; i < _sliceCount; i++)
        {
            if (_lengths[i] == 0)
            {
                continue;
            }

            var m = ManagerAt(k);
            m.Reset(Buffer!.Base + _data[i], _lengths[i]);
            var seg = SegmentAt(k);
            seg.Set(m.Memory, running);
            running += _lengths[i];
            if (tail is null)
            {
                head = seg;
            }
            else
            {
                tail.Link(seg);
            }

            tail = seg;
            k++;
        }

        return new ReadOnlySequence<byte>(head!, 0, tail!, tail!.Memory.Length);
    }

    private void Append(uint offset, uint dataOffset, int length)
    {
        if (_sliceCount == _slices.Length)
        {
            EnsureSliceCapacity(_slices.Length * 2);
        }

        _slices[_sliceCount] = offset;
        _data[_sliceCount] = dataOffset;
        _lengths[_sliceCount] = length;
        _sliceCount++;
        _sequenceBuilt = false;
    }

    private void EnsureSliceCapacity(int count)
    {
        if (_slices.Length >= count)
        {
            return;
        }

        var size = Math.Max(count, _slices.Length * 2);
        Array.Resize(ref _slices, size);
        Array.Resize(ref _data, size);
        Array.Resize(ref _lengths, size);
    }

    private void CountSlices(int delta)
    {
        if (_counted)
        {
            _countedSlices += delta;
            Session!.CountHeld(0, delta);
        }
    }

    private void Uncount()
    {
        if (_counted)
        {
            Session!.CountHeld(-1, -_countedSlices);
            _counted = false;
            _countedSlices = 0;
        }
    }

    private void SwitchToHeap(int want)
    {
        var size = Math.Max(Length + want, MinHeapChunk);
        var heap = ByteArrays.Rent(size);
        var at = 0;
        for (var i = 0; i < _sliceCount; i++)
        {
            SliceData(_slices[i])[.._lengths[i]].CopyTo(heap.AsSpan(at));
            at += _lengths[i];
            Buffer!.Manager.Recycle(_slices[i]);
        }

        CountSlices(-_sliceCount);
        _sliceCount = 0;
        _heap = heap;
        _heapLength = at;
        _sequenceBuilt = false;
    }

    private void EnsureHeap(int want)
    {
        if (_heap!.Length - _heapLength >= want)
        {
            return;
        }

        var bigger = ByteArrays.Rent(Math.Max(_heap.Length * 2, _heapLength + want));
        _heap.AsSpan(0, _heapLength).CopyTo(bigger);
        ByteArrays.Return(_heap);
        _heap = bigger;
    }

    private NativeMemoryManager ManagerAt(int index)
    {
        while (_managers.Count <= index)
        {
            _managers.Add(new NativeMemoryManager(this));
        }

        return _managers[index];
    }

    private LeaseSegment SegmentAt(int index)
    {
        while (_segments.Count <= index)
        {
            _segments.Add(new LeaseSegment());
        }

        return _segments[index];
    }

    // The capacity comes from the process-local list table, never from the header the peer could rewrite.
    private int SliceCapacity(uint offset) => Buffer!.Manager.GetSliceData(offset).Length;

    private Span<byte> SliceData(uint offset) => Buffer!.Manager.GetSliceData(offset);

    // A lease the user dropped without Dispose: return its slices and report it. Runs on the finalizer thread, with
    // nothing else referencing this core; the pool never sees it again (it is not resurrected), and heap buffers are not
    // returned to the ArrayPool, since the user may still hold a view of them.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "An exception escaping a finalizer ends the process.")]
    ~LeaseCore()
    {
        if (Kind == LeaseKind.None)
        {
            return;
        }

        try
        {
            var slices = _sliceCount;
            if (Buffer is { } buffer)
            {
                for (var i = 0; i < _sliceCount; i++)
                {
                    buffer.Manager.Recycle(_slices[i]);
                }

                _sliceCount = 0;
                buffer.Release();
            }

            Uncount();
            Session?.OnLeaseLeaked(Kind, StreamId, Length, slices, _origin);
        }
        catch (Exception)
        {
            // Nothing more can be done for this lease; the session and the process go on.
        }
    }
}
