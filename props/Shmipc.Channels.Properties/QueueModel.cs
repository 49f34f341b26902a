using System.Runtime.CompilerServices;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

/// <summary>
/// One IO queue (producer view + consumer view over the same 24 + 12·cap bytes) checked against a
/// <see cref="Queue{T}"/> after every put and pop, including the raw header and element bytes at the
/// positions the layout names (docs/PROTOCOL.md §4.3).
/// </summary>
internal sealed unsafe class QueueModel
{
    private readonly byte* _queue;
    private readonly QueueLayout _layout;
    private readonly uint _capacity;
    private readonly long _start;
    private readonly uint _salt;
    private readonly string _name;
    private readonly Queue<QueueElement> _model = new();
    private long _puts;
    private long _pops;

    public QueueModel(string name, byte* queue, QueueLayout layout, uint capacity, long start, uint salt)
    {
        _name = name;
        _queue = queue;
        _layout = layout;
        _capacity = capacity;
        _start = start;
        _salt = salt;
    }

    public IoQueue Producer { get; set; } = null!;

    public IoQueue Consumer { get; set; } = null!;

    public int TimesFull { get; private set; }

    public int TimesEmpty { get; private set; }

    public long Wraps => (_puts / _capacity);

    public void Put()
    {
        QueueElement element = ElementFor(_puts);
        bool expected = _model.Count < _capacity;
        bool actual = Producer.TryPut(element);
        Check(actual == expected, $"TryPut returned {actual} with {_model.Count} of {_capacity} queued");
        if (actual)
        {
            byte* slot = _queue + QueueLayout.HeaderSize + ((long)((ulong)(_start + _puts) % _capacity) * QueueLayout.ElementSize);
            var raw = new QueueElement(Read<uint>(slot), Read<uint>(slot + 4), Read<uint>(slot + 8));
            Check(raw == element, $"element bytes at slot {(slot - _queue - QueueLayout.HeaderSize) / 12} are {raw}, put {element}");
            _model.Enqueue(element);
            _puts++;
        }
        else
        {
            TimesFull++;
        }

        CheckState();
    }

    public void Pop()
    {
        bool expected = _model.Count > 0;
        bool actual = Consumer.TryPop(out QueueElement element);
        Check(actual == expected, $"TryPop returned {actual} with {_model.Count} queued");
        if (actual)
        {
            QueueElement modelElement = _model.Dequeue();
            Check(element == modelElement, $"TryPop gave {element}, FIFO order says {modelElement}");
            _pops++;
        }
        else
        {
            TimesEmpty++;
        }

        CheckState();
    }

    public void CheckState()
    {
        long head = Read<long>(_queue + _layout.HeadOffset);
        long tail = Read<long>(_queue + _layout.TailOffset);
        Check(head == _start + _pops && tail == _start + _puts, $"raw head/tail ({head}, {tail}) at {_layout} offsets, expected ({_start + _pops}, {_start + _puts})");
        Check(Producer.Count == _model.Count && Consumer.Count == _model.Count, $"Count is {Producer.Count}/{Consumer.Count}, model {_model.Count}");
        Check(Consumer.Head == head && Consumer.Tail == tail && Producer.Head == head && Producer.Tail == tail, $"Head/Tail properties disagree with the raw header");
        Check(Read<uint>(_queue) == _capacity, $"raw cap is {Read<uint>(_queue)}");
        Check(Read<uint>(_queue + _layout.WorkingFlagOffset) == 0 && !Consumer.IsWorking, $"working flag changed without MarkWorking");
    }

    /// <summary>Writes head = tail = <paramref name="index"/> into the raw header (before the queue is mapped).</summary>
    public void SetStartIndex(long index)
    {
        Unsafe.WriteUnaligned(_queue + _layout.HeadOffset, index);
        Unsafe.WriteUnaligned(_queue + _layout.TailOffset, index);
    }

    private QueueElement ElementFor(long index) => new(
        unchecked((uint)index ^ _salt),
        unchecked((uint)(index * 2654435761L) + _salt),
        unchecked((uint)(index & 0xFF) | (_salt & 0xFFFF_FF00)));

    private static T Read<T>(byte* address)
        where T : unmanaged => Unsafe.ReadUnaligned<T>(address);

    private void Check(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref CheckMessage message)
    {
        if (!condition)
        {
            throw new PropertyFailure($"{_name} after {_puts} puts / {_pops} pops: {message.ToStringAndClear()}");
        }
    }
}
