using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.ObjectPool;

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
internal sealed unsafe class LeaseCore : IBufferWriter<byte>
{
    private const int SliceHeaderSize = 20;
    private const int MinHeapChunk = 4096;

    private static readonly ObjectPool<LeaseCore> s_pool =
        new DefaultObjectPoolProvider { MaximumRetained = 4096 }.Create(new Policy());

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

    public LeaseKind Kind { get; private set; }

    public Session? Session { get; private set; }

    public SharedBuffer? Buffer { get; private set; }

    public uint StreamId { get; private set; }

    public int Token => Volatile.Read(ref _token);

    /// <summary>Bytes in the message (received) or written so far (writer).</summary>
    public int Length { get; private set; }

    public bool IsHeap => _heap is not null;

    public static LeaseCore Rent() => s_pool.Get();

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
        _heap = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(_heap);
        _heapLength = payload.Length;
        Length = payload.Length;
    }

    /// <summary>Starts a message to write on <paramref name="streamId"/>.</summary>
    public void BeginWrite(Session session, SharedBuffer buffer, uint streamId)
    {
        Debug.Assert(Kind == LeaseKind.None);
        buffer.AddRef();
        Kind = LeaseKind.Writing;
        Session = session;
        Buffer = buffer;
        StreamId = streamId;
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

        if (Buffer!.Manager.TryAllocate(want, out var offset))
        {
            Append(offset, offset + SliceHeaderSize, 0);
            return SliceData(offset);
        }

        // Shared memory is exhausted (or no slice is that large): keep writing to the heap; the message then
        // travels over the socket as FallbackData (PROTOCOL.md §7), with everything written so far in front.
        Session!.Metrics.AllocationFailed();
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

    /// <summary>Returns the core to the pool if <paramref name="token"/> is current; recycles what it still holds.</summary>
    public bool TryRelease(int token)
    {
        if (Interlocked.CompareExchange(ref _token, token + 1, token) != token)
        {
            return false;
        }

        // Memory a peer truncated holds no free lists any more (the guard shows zeros there): nothing to give back.
        if (Buffer is { } buffer && !buffer.Region.WasTruncated)
        {
            for (var i = 0; i < _sliceCount; i++)
            {
                buffer.Manager.Recycle(_slices[i]);
            }
        }

        ResetAndReturn();
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
    /// empty slices (shmipc-go's reader mishandles some, PROTOCOL.md §14.9), then writes sizes and links.
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
        Buffer?.Release();
        if (_heap is not null)
        {
            ArrayPool<byte>.Shared.Return(_heap);
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
        foreach (var s in _segments)
        {
            s.Clear();
        }

        foreach (var m in _managers)
        {
            m.Reset(null, 0);
        }

        s_pool.Return(this);
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
            Array.Resize(ref _slices, _slices.Length * 2);
            Array.Resize(ref _data, _data.Length * 2);
            Array.Resize(ref _lengths, _lengths.Length * 2);
        }

        _slices[_sliceCount] = offset;
        _data[_sliceCount] = dataOffset;
        _lengths[_sliceCount] = length;
        _sliceCount++;
        _sequenceBuilt = false;
    }

    private void SwitchToHeap(int want)
    {
        var size = Math.Max(Length + want, MinHeapChunk);
        var heap = ArrayPool<byte>.Shared.Rent(size);
        var at = 0;
        for (var i = 0; i < _sliceCount; i++)
        {
            SliceData(_slices[i])[.._lengths[i]].CopyTo(heap.AsSpan(at));
            at += _lengths[i];
            Buffer!.Manager.Recycle(_slices[i]);
        }

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

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_heap.Length * 2, _heapLength + want));
        _heap.AsSpan(0, _heapLength).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_heap);
        _heap = bigger;
    }

    private NativeMemoryManager ManagerAt(int index)
    {
        while (_managers.Count <= index)
        {
            _managers.Add(new NativeMemoryManager());
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

    private sealed class Policy : IPooledObjectPolicy<LeaseCore>
    {
        public LeaseCore Create() => new();

        public bool Return(LeaseCore obj) => obj.Kind == LeaseKind.None;
    }
}
