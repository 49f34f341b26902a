using System.Diagnostics;
using System.Runtime.CompilerServices;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Memory;

// Design:
// One free list of fixed-size slices inside the shared buffer region (docs/PROTOCOL.md §4.6). Both processes pop
// (allocate) and push (recycle) on the same list concurrently; across processes there is no lock, only the protocol
// below (within one process, pops are serialised by _popLock against the head CAS's ABA, see TryPop).
//
//   field (list header)   written by                          access
//   size   @+0            poppers (-1/+1), pushers (+1)       Interlocked.Add; read Volatile
//   cap    @+4            creator once                        cached here after validation, never re-read
//   head   @+8            poppers only                        CAS; read Volatile (acquire) before the header read
//   tail   @+12           pushers only                        CAS; read Volatile
//   capPerBuffer @+16     creator once                        cached here after validation
//   counter @+20 / @+24   creator / mapper (Go quirk §14.6)   Interlocked.Add, informational
//
//   slice header: size/start/flags are written with plain stores by the slice's current owner; a pusher links
//   the old tail (next, then flags |= HasNext with a release store) only after winning the tail CAS; a popper
//   reads flags (acquire) then next, after its acquire load of head.
//
// Why it works: pop never takes the last free slice (size is decremented first and must stay > 0), so head
// never overtakes tail, and between a push's tail swing and its link the old tail still has HasNext = 0, which
// poppers treat as "retry, or fail if size <= 1". Effective capacity is cap - 1 slices.
//
// Hardening: head and tail come from shared memory and are validated (in range, multiple of the stride) before
// anything is dereferenced; a bad value throws CorruptSharedMemory. cap and capPerBuffer are cached from the
// validated header, so a peer rewriting them later cannot move our bounds.

/// <summary>One lock-free, cross-process free list of equally sized slices (shmipc-go <c>bufferList</c>).</summary>
/// <remarks>
/// All offsets handed out or taken are absolute region offsets of slice headers. Memory ordering: every mutation
/// of head/tail/size is a full-fence <see cref="Interlocked"/> operation, like Go's sequentially consistent atomics.
/// </remarks>
internal sealed unsafe class BufferList
{
    /// <summary>Go retries a contended pop 200 times before giving up.</summary>
    public const int MaxPopAttempts = 200;

    private readonly byte* _base;
    private readonly byte* _region;
    private readonly ulong _regionBytes;
    private readonly AtomicInt32 _size;
    private readonly AtomicInt32 _head;
    private readonly AtomicInt32 _tail;
    private readonly AtomicInt32 _counter;
    private readonly Lock _popLock = new();

    private BufferList(byte* baseAddress, int index, uint listOffset, uint sliceCount, uint capPerBuffer, bool isCreator)
    {
        _base = baseAddress;
        Index = index;
        ListOffset = listOffset;
        RegionOffset = listOffset + ListHeaderSize;
        SliceCount = sliceCount;
        CapPerBuffer = capPerBuffer;
        Stride = capPerBuffer + SliceHeaderSize;
        _region = baseAddress + RegionOffset;
        _regionBytes = (ulong)sliceCount * Stride;
        byte* header = baseAddress + listOffset;
        _size = new AtomicInt32(header + ListSizeOffset);
        _head = new AtomicInt32(header + ListHeadOffset);
        _tail = new AtomicInt32(header + ListTailOffset);
        _counter = new AtomicInt32(header + (isCreator ? ListCreatorCounterOffset : ListMapperCounterOffset));
    }

    /// <summary>Position of this list in the manager (ascending slice size for regions made by Go/Rust/us).</summary>
    public int Index { get; }

    /// <summary>Region offset L of the list header.</summary>
    public uint ListOffset { get; }

    /// <summary>Region offset R = L + 36 of slice 0.</summary>
    public uint RegionOffset { get; }

    /// <summary>Region offset just past the last slice of the list.</summary>
    public ulong EndOffset => RegionOffset + _regionBytes;

    /// <summary>Total slices n (the header's <c>cap</c>, cached when the list was created or validated).</summary>
    public uint SliceCount { get; }

    /// <summary>Data bytes per slice (the header's <c>capPerBuffer</c>, cached).</summary>
    public uint CapPerBuffer { get; }

    /// <summary>Distance between slice headers: capPerBuffer + 20.</summary>
    public uint Stride { get; }

    /// <summary>The shared <c>size</c> field: free slices (transiently lower while pops are in flight).</summary>
    public int FreeCount => _size.VolatileRead();

    /// <summary>The shared <c>head</c> field (relative to R).</summary>
    public uint Head => unchecked((uint)_head.VolatileRead());

    /// <summary>The shared <c>tail</c> field (relative to R).</summary>
    public uint Tail => unchecked((uint)_tail.VolatileRead());

    /// <summary>The counter at +20, bumped by the creating process.</summary>
    public int CreatorCounter => new AtomicInt32(_base + ListOffset + ListCreatorCounterOffset).VolatileRead();

    /// <summary>The counter at +24, bumped by mapping processes.</summary>
    public int MapperCounter => new AtomicInt32(_base + ListOffset + ListMapperCounterOffset).VolatileRead();

    /// <summary>
    /// Writes a fresh list at <paramref name="listOffset"/> exactly as Go's <c>createFreeBufferList</c>: header
    /// <c>size = cap = n, head = 0, tail = (n-1)·stride</c>, counters 0; every slice <c>cap, size 0, start 0</c>,
    /// slices 0..n-2 linked (relative next, HasNext), the last one with flags 0.
    /// </summary>
    /// <remarks>Header bytes are zeroed first, so the result does not depend on earlier contents; data areas are not touched.</remarks>
    internal static BufferList Initialize(byte* baseAddress, int index, uint listOffset, uint sliceCount, uint capPerBuffer)
    {
        Debug.Assert(sliceCount > 0 && capPerBuffer > 0);
        uint stride = capPerBuffer + SliceHeaderSize;
        byte* header = baseAddress + listOffset;
        new Span<byte>(header, ListHeaderSize).Clear();
        Unsafe.WriteUnaligned(header + ListSizeOffset, (int)sliceCount);
        Unsafe.WriteUnaligned(header + ListCapOffset, sliceCount);
        Unsafe.WriteUnaligned(header + ListHeadOffset, 0u);
        Unsafe.WriteUnaligned(header + ListTailOffset, (sliceCount - 1) * stride);
        Unsafe.WriteUnaligned(header + ListCapPerBufferOffset, capPerBuffer);

        byte* slice = header + ListHeaderSize;
        for (uint k = 0; k < sliceCount; k++, slice += stride)
        {
            new Span<byte>(slice, SliceHeaderSize).Clear();
            Unsafe.WriteUnaligned(slice + SliceCapOffset, capPerBuffer);
            if (k < sliceCount - 1)
            {
                Unsafe.WriteUnaligned(slice + SliceNextOffset, (k + 1) * stride);
                slice[SliceFlagsOffset] = SliceFlagHasNext;
            }
        }

        return new BufferList(baseAddress, index, listOffset, sliceCount, capPerBuffer, isCreator: true);
    }

    /// <summary>Attaches to a list header that <see cref="BufferManager.Map"/> has already validated.</summary>
    internal static BufferList Attach(byte* baseAddress, int index, uint listOffset, uint sliceCount, uint capPerBuffer, bool isCreator) =>
        new(baseAddress, index, listOffset, sliceCount, capPerBuffer, isCreator);

    /// <summary>True if <paramref name="relative"/> (relative to R) is the header of one of this list's slices.</summary>
    public bool IsSliceBoundary(uint relative) => relative < _regionBytes && relative % Stride == 0;

    /// <summary>True if the absolute <paramref name="offset"/> falls inside this list's slice region.</summary>
    public bool ContainsOffset(uint offset) => offset >= RegionOffset && offset - RegionOffset < _regionBytes;

    /// <summary>
    /// Pops one free slice (Go <c>bufferList.pop</c>): fails when only one free slice is left, retries a contended
    /// head CAS up to <see cref="MaxPopAttempts"/> times. Marks the slice InUse and bumps this process's counter.
    /// </summary>
    /// <param name="sliceOffset">Absolute region offset of the slice header.</param>
    /// <returns>False when the list is (effectively) empty or too contended.</returns>
    /// <exception cref="ShmipcException">CorruptSharedMemory: head or a free link is not a slice of this list.</exception>
    public bool TryPop(out uint sliceOffset)
    {
        // The head CAS has no ABA tag (the wire layout has no room for one): a popper that stalls between reading
        // head.next and its CAS while others cycle the list back to the same head would install a stale head. Within
        // this process, pops of a list are serialised, so only a stall against the peer process's pops remains — the
        // same exposure as shmipc-go itself, and negligible with lists of hundreds of slices.
        lock (_popLock)
        {
            return TryPopCore(out sliceOffset);
        }
    }

    private bool TryPopCore(out uint sliceOffset)
    {
        uint oldHead = unchecked((uint)_head.VolatileRead());
        if (_size.Add(-1) <= 0)
        {
            _size.Add(1);
            sliceOffset = 0;
            return false;
        }

        for (int attempt = 0; attempt < MaxPopAttempts; attempt++)
        {
            if (!IsSliceBoundary(oldHead))
            {
                _size.Add(1);
                MemoryThrowHelper.ThrowCorrupt(
                    $"buffer list {Index} (capPerBuffer {CapPerBuffer}): head {oldHead} is not a slice offset (must be < {_regionBytes} and a multiple of {Stride})");
            }

            byte* header = _region + oldHead;
            if ((Volatile.Read(ref header[SliceFlagsOffset]) & SliceFlagHasNext) != 0)
            {
                uint next = Unsafe.ReadUnaligned<uint>(header + SliceNextOffset);
                if (!IsSliceBoundary(next))
                {
                    // The slice may have been popped and reused (absolute next) after we read head: only a
                    // head that is still unchanged proves the free link itself is bad.
                    uint now = unchecked((uint)_head.VolatileRead());
                    if (now == oldHead)
                    {
                        _size.Add(1);
                        MemoryThrowHelper.ThrowCorrupt(
                            $"buffer list {Index} (capPerBuffer {CapPerBuffer}): free slice at relative offset {oldHead} links to {next}, which is not a slice offset (< {_regionBytes}, multiple of {Stride})");
                    }

                    oldHead = now;
                    continue;
                }

                if (_head.CompareExchange(unchecked((int)next), unchecked((int)oldHead)) == unchecked((int)oldHead))
                {
                    header[SliceFlagsOffset] = SliceFlagInUse; // Go: clearFlag(); setInUsed(). next stays stale.
                    _counter.Add(1);
                    sliceOffset = RegionOffset + oldHead;
                    return true;
                }
            }
            else if (_size.VolatileRead() <= 1)
            {
                // Only the untouchable last slice is left, or a push is between its tail swing and its link.
                _size.Add(1);
                sliceOffset = 0;
                return false;
            }

            oldHead = unchecked((uint)_head.VolatileRead());
        }

        _size.Add(1);
        sliceOffset = 0;
        return false;
    }

    /// <summary>
    /// Pushes a slice back (Go <c>bufferList.push</c>): resets size/start/flags (next stays stale), swings tail
    /// with a CAS, then links the old tail to it and increments size.
    /// </summary>
    /// <param name="sliceOffset">Absolute offset of a slice header of this list; the caller has validated it.</param>
    /// <exception cref="ShmipcException">CorruptSharedMemory: the shared tail is not a slice of this list.</exception>
    public void Push(uint sliceOffset)
    {
        Debug.Assert(ContainsOffset(sliceOffset) && IsSliceBoundary(sliceOffset - RegionOffset));
        uint newTail = sliceOffset - RegionOffset;
        byte* header = _region + newTail;
        Unsafe.WriteUnaligned(header + SliceSizeOffset, 0u);
        Unsafe.WriteUnaligned(header + SliceStartOffset, 0u);
        header[SliceFlagsOffset] = 0;

        while (true)
        {
            uint oldTail = unchecked((uint)_tail.VolatileRead());
            if (!IsSliceBoundary(oldTail))
            {
                MemoryThrowHelper.ThrowCorrupt(
                    $"buffer list {Index} (capPerBuffer {CapPerBuffer}): tail {oldTail} is not a slice offset (must be < {_regionBytes} and a multiple of {Stride})");
            }

            if (_tail.CompareExchange(unchecked((int)newTail), unchecked((int)oldTail)) == unchecked((int)oldTail))
            {
                byte* old = _region + oldTail;
                Unsafe.WriteUnaligned(old + SliceNextOffset, newTail);
                Volatile.Write(ref old[SliceFlagsOffset], (byte)(old[SliceFlagsOffset] | SliceFlagHasNext));
                _size.Add(1);
                _counter.Add(-1);
                return;
            }
        }
    }

    /// <summary>
    /// Debug walk (Go <c>computeFreeSliceNum</c>): from head follow relative next while HasNext. Meaningful only
    /// while no pop or push is in flight.
    /// </summary>
    /// <param name="visited">Slices visited (bounded by the slice count + 1).</param>
    /// <returns>True if the walk visits exactly <see cref="FreeCount"/> slices and ends at <see cref="Tail"/>.</returns>
    public bool WalkFreeList(out int visited)
    {
        visited = 0;
        uint current = Head;
        while (IsSliceBoundary(current) && (ulong)visited <= SliceCount)
        {
            visited++;
            byte* header = _region + current;
            if ((Volatile.Read(ref header[SliceFlagsOffset]) & SliceFlagHasNext) == 0)
            {
                return current == Tail && visited == FreeCount;
            }

            current = Unsafe.ReadUnaligned<uint>(header + SliceNextOffset);
        }

        return false;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"list {Index}: capPerBuffer {CapPerBuffer}, cap {SliceCount}, size {FreeCount}, head {Head}, tail {Tail}, L {ListOffset}, R {RegionOffset}";
}
