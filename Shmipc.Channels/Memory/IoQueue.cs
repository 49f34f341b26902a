using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Shmipc.Channels.Memory;

// Design:
// One shmipc IO queue (docs/PROTOCOL.md §4.3): a bounded ring of 12-byte elements in shared memory, one producer
// process and one consumer process. Layout per QueueLayout (amd64 or arm64 header).
//
//   field         written by                 access
//   cap           creator, once              cached here after validation; never re-read for indexing
//   head (i64)    consumer only              Interlocked.Add after the element is read; producer reads Volatile
//   tail (i64)    producer only              Interlocked.Add after the element is written (publishes it);
//                                            consumer reads Volatile (acquire) before reading the element
//   workingFlag   consumer (0/1), producer   producer: CAS 0→1 (MarkWorking); consumer: Exchange 0 (full fence),
//                 (CAS 0→1)                  then re-check size, Exchange 1 if not empty (MarkNotWorking)
//   elements      producer (plain stores)    consumer (plain loads) — ordered by tail (release/acquire)
//
// Within a process: TryPut is single-producer and TryPop single-consumer. Callers serialise (Go guards put
// with a mutex; the event loop is the only consumer). The two roles may run on different threads.
//
// Peer index caching (docs/CONTRIBUTING.md, habit 16): the producer keeps a copy of head and the consumer a copy of tail, refreshed
// only when the queue looks full / empty. Both copies can only lag (indexes only grow), so a stale copy is
// conservative. Hardening: slots are computed as (ulong)index % cap with the cached, validated cap, so no index
// value from the peer can address outside the ring; a refreshed peer index that gives size < 0 or > cap throws
// CorruptSharedMemory.

/// <summary>One shmipc IO queue over shared memory (shmipc-go <c>queue</c>).</summary>
/// <remarks>
/// Memory ordering: element stores are plain and published by the full-fence tail increment; the consumer's
/// acquire load of tail orders its element loads. <see cref="MarkNotWorking"/> clears the flag with a full fence
/// before reading the indexes, so a producer's put after that point is either seen or sends a SyncEvent (§6).
/// </remarks>
internal sealed unsafe class IoQueue
{
    private readonly byte* _elements;
    private readonly AtomicInt64 _head;
    private readonly AtomicInt64 _tail;
    private readonly AtomicInt32 _workingFlag;
    private readonly uint _capacity;

    // Producer-side copy of the consumer's head; touched only by the (serialised) producer.
    private long _cachedHead;

    // Consumer-side copy of the producer's tail; touched only by the single consumer.
    private long _cachedTail;

    private IoQueue(byte* address, uint capacity, QueueLayout layout)
    {
        _elements = address + QueueLayout.HeaderSize;
        _head = new AtomicInt64(address + layout.HeadOffset);
        _tail = new AtomicInt64(address + layout.TailOffset);
        _workingFlag = new AtomicInt32(address + layout.WorkingFlagOffset);
        _capacity = capacity;
        Layout = layout;
        _cachedHead = _head.VolatileRead();
        _cachedTail = _tail.VolatileRead();
    }

    /// <summary>The header layout in use.</summary>
    public QueueLayout Layout { get; }

    /// <summary>Element capacity (validated when created or mapped).</summary>
    public uint Capacity => _capacity;

    /// <summary>The shared consumer index.</summary>
    public long Head => _head.VolatileRead();

    /// <summary>The shared producer index.</summary>
    public long Tail => _tail.VolatileRead();

    /// <summary>Pending elements, tail − head (raw: a corrupt peer can make it negative or larger than the capacity).</summary>
    public long Count => _tail.VolatileRead() - _head.VolatileRead();

    /// <summary>The consumer is draining or a SyncEvent is outstanding (flag ≠ 0).</summary>
    public bool IsWorking => _workingFlag.VolatileRead() != 0;

    /// <summary>Initialises a queue of <paramref name="capacity"/> elements at <paramref name="address"/>: zeroes
    /// <c>24 + 12·capacity</c> bytes and writes cap (Go <c>createQueueFromBytes</c>).</summary>
    /// <exception cref="ShmipcException">InvalidConfiguration: capacity 0 or not exactly <paramref name="length"/> bytes.</exception>
    public static IoQueue Create(byte* address, long length, uint capacity, QueueLayout layout)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (capacity == 0 || QueueLayout.QueueSize(capacity) != length)
        {
            MemoryThrowHelper.ThrowInvalidConfiguration(
                $"IO queue: capacity {capacity} needs {QueueLayout.QueueSize(capacity)} bytes, {length} given (capacity must be > 0)");
        }

        CheckAlignment(address, layout, MemoryThrowHelper.ThrowInvalidConfiguration);
        NativeMemory.Clear(address, (nuint)length);
        Unsafe.WriteUnaligned(address + QueueLayout.CapOffset, capacity);
        return new IoQueue(address, capacity, layout);
    }

    /// <summary>Attaches to a queue made by the peer, validating cap against <paramref name="length"/> and the indexes.</summary>
    /// <exception cref="ShmipcException">CorruptSharedMemory: cap 0, <c>24 + 12·cap ≠ length</c>, or head/tail inconsistent.</exception>
    public static IoQueue Map(byte* address, long length, QueueLayout layout)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (length < QueueLayout.HeaderSize)
        {
            MemoryThrowHelper.ThrowCorrupt($"IO queue: {length} bytes cannot hold the {QueueLayout.HeaderSize}-byte header");
        }

        uint capacity = Unsafe.ReadUnaligned<uint>(address + QueueLayout.CapOffset);
        if (capacity == 0 || QueueLayout.QueueSize(capacity) != length)
        {
            MemoryThrowHelper.ThrowCorrupt(
                $"IO queue: header cap {capacity} gives {QueueLayout.QueueSize(capacity)} bytes, but the queue has {length} (cap must be > 0)");
        }

        CheckAlignment(address, layout, MemoryThrowHelper.ThrowCorrupt);
        var queue = new IoQueue(address, capacity, layout);
        queue.CheckIndexes(queue.Head, queue.Tail);
        return queue;
    }

    /// <summary>
    /// Appends an element (Go <c>queue.put</c>). <b>Single producer:</b> callers must serialise calls on one queue.
    /// </summary>
    /// <returns>False if the queue is full (shmipc <c>ErrQueueFull</c>).</returns>
    /// <exception cref="ShmipcException">CorruptSharedMemory: the consumer's head is behind tail by more than cap, or ahead of it.</exception>
    public bool TryPut(in QueueElement element)
    {
        long tail = _tail.VolatileRead();
        if ((ulong)(tail - _cachedHead) >= _capacity) // unsigned: a copy ahead of tail (corrupt) also refreshes
        {
            long head = _head.VolatileRead();
            CheckIndexes(head, tail);
            _cachedHead = head;
            if (tail - head >= _capacity)
            {
                return false;
            }
        }

        byte* slot = _elements + ((long)((ulong)tail % _capacity) * QueueLayout.ElementSize);
        Unsafe.WriteUnaligned(slot + QueueLayout.ElementStreamIdOffset, element.StreamId);
        Unsafe.WriteUnaligned(slot + QueueLayout.ElementOffsetOffset, element.Offset);
        Unsafe.WriteUnaligned(slot + QueueLayout.ElementStatusOffset, element.Status);
        _tail.Add(1); // full fence: publishes the element
        return true;
    }

    /// <summary>Removes the oldest element (Go <c>queue.pop</c>). <b>Single consumer.</b></summary>
    /// <returns>False if the queue is empty.</returns>
    /// <exception cref="ShmipcException">CorruptSharedMemory: tail − head is negative or larger than cap.</exception>
    public bool TryPop(out QueueElement element)
    {
        long head = _head.VolatileRead();
        if ((ulong)head >= (ulong)_cachedTail) // unsigned: a negative (corrupt) head also refreshes and is caught
        {
            long tail = _tail.VolatileRead(); // acquire: the element stores before the tail increment are visible
            CheckIndexes(head, tail);
            _cachedTail = tail;
            if (head == tail)
            {
                element = default;
                return false;
            }
        }

        byte* slot = _elements + ((long)((ulong)head % _capacity) * QueueLayout.ElementSize);
        element = new QueueElement(
            Unsafe.ReadUnaligned<uint>(slot + QueueLayout.ElementStreamIdOffset),
            Unsafe.ReadUnaligned<uint>(slot + QueueLayout.ElementOffsetOffset),
            Unsafe.ReadUnaligned<uint>(slot + QueueLayout.ElementStatusOffset));
        _head.Add(1); // only after reading, so the producer cannot overwrite the slot early
        return true;
    }

    /// <summary>
    /// Reads the element at absolute position <paramref name="index"/> without consuming it (a session's close counts
    /// what is left between head and tail; neither side pops or puts any more then).
    /// </summary>
    /// <remarks>The slot is computed with the cached, validated capacity, so no index can address outside the ring.</remarks>
    public QueueElement PeekAt(long index)
    {
        byte* slot = _elements + ((long)((ulong)index % _capacity) * QueueLayout.ElementSize);
        return new QueueElement(
            Unsafe.ReadUnaligned<uint>(slot + QueueLayout.ElementStreamIdOffset),
            Unsafe.ReadUnaligned<uint>(slot + QueueLayout.ElementOffsetOffset),
            Unsafe.ReadUnaligned<uint>(slot + QueueLayout.ElementStatusOffset));
    }

    /// <summary>Producer side: CAS the working flag 0 → 1. True means "I must send the SyncEvent (Polling) frame".</summary>
    public bool MarkWorking() => _workingFlag.CompareExchange(1, 0) == 0;

    /// <summary>
    /// Consumer side, after draining: clears the flag with a full fence (<see cref="Interlocked.Exchange(ref int, int)"/>),
    /// then checks the size. Empty: returns true (done, the flag stays 0). Not empty: sets the flag back to 1 and
    /// returns false (drain again) — docs/PROTOCOL.md §4.3 and §6; without the fence a wake-up can be lost.
    /// </summary>
    /// <exception cref="ShmipcException">CorruptSharedMemory: tail − head is negative or larger than cap.</exception>
    public bool MarkNotWorking()
    {
        _workingFlag.Exchange(0);
        long head = _head.VolatileRead();
        long tail = _tail.VolatileRead();
        if (tail == head)
        {
            return true;
        }

        _workingFlag.Exchange(1);
        CheckIndexes(head, tail);
        return false;
    }

    /// <inheritdoc/>
    public override string ToString() => $"IoQueue({Layout}, cap {Capacity}, head {Head}, tail {Tail}, working {IsWorking})";

    private void CheckIndexes(long head, long tail)
    {
        if (head < 0 || tail < head || tail - head > _capacity)
        {
            MemoryThrowHelper.ThrowCorrupt(
                $"IO queue ({Layout}): head {head} and tail {tail} are inconsistent (need 0 <= head <= tail <= head + cap {_capacity})");
        }
    }

    private static void CheckAlignment(byte* address, QueueLayout layout, Action<string> fail)
    {
        if (layout.HeadOffset == 0)
        {
            throw new ArgumentException("default(QueueLayout) is not a layout; use QueueLayout.Amd64, Arm64 or Current", nameof(layout));
        }

        // arm64 atomics need natural alignment; x86 tolerates the amd64 layout's misaligned head/tail (lock prefix).
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.X86)
            && (((nuint)(address + layout.HeadOffset) % 8 != 0) || ((nuint)(address + layout.TailOffset) % 8 != 0)))
        {
            fail($"IO queue at {(nuint)address:x}: head/tail of the {layout} layout are not 8-aligned on {RuntimeInformation.ProcessArchitecture}");
        }
    }
}
