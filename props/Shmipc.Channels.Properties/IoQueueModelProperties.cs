// Property 3 — IO queue against Queue<T> (docs/PROTOCOL.md §4.3).
// Invariant: for capacities 1..64, both header layouts (amd64: head@4 tail@12 flag@20; arm64: flag@4 head@8
// tail@16) and random put/pop runs that fill, drain and wrap the ring many times (starting indexes also just
// below 2^31, 2^32, 2^40 and 2^62), TryPut fails exactly when the model holds `capacity` elements, TryPop fails
// exactly when the model is empty and otherwise returns the model's oldest element, Count equals the model's,
// and the raw header (cap, head, tail, working flag) and element bytes sit where the layout says. The same holds
// through a creator/mapper pair: IoQueuePair.Create then Map of the same memory, where the creator's SendQueue
// is the mapper's ReceiveQueue (first half) and the other way round (second half). Re-mapping mid-sequence
// (fresh cached indexes) changes nothing.
//
// Split locks: with the amd64 layout the second queue of a pair starts at 24 + 12·cap, so for cap ≡ 2 or 8
// (mod 16) its 8-byte tail or head straddles a 64-byte line and every TryPut/TryPop is a split lock. This
// host's kernel traps those (dmesg "x86/split lock detection: #DB ... bus_lock trap"), measured at ~1 ms per
// Interlocked.Add against 0.1 µs aligned, and 10–100 ms per operation once the kernel rate-limits (busy
// host, other processes split-locking too). Such cases still run, but with at most 2 puts/pops on the straddling queue so
// the suite stays bounded; the queue logic is the same for every capacity, only slower there.
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Memory;
using Xunit;

namespace Shmipc.Channels.Properties;

public sealed unsafe class IoQueueModelProperties
{
    private const int SplitLockBudget = 2;

    [Property(MaxTest = 200, Arbitrary = new[] { typeof(Generators) })]
    public Property Single_queue_behaves_like_Queue(QueueScenario scenario)
    {
        uint capacity = (uint)scenario.Capacity;
        QueueLayout layout = QueueLayouts.Of(scenario.Arm64Layout);
        using var memory = new NativeBuffer(QueueLayout.QueueSize(capacity));
        if (!QueueLayouts.IsUsable(layout, memory.Pointer))
        {
            ShmipcException refused = Assert.Throws<ShmipcException>(() => CreateQueue(memory, capacity, layout));
            Assert.Equal(ShmipcErrorCode.InvalidConfiguration, refused.ErrorCode);
            return true.Classify(true, "layout not usable on this CPU");
        }

        IoQueue queue = IoQueue.Create(memory.Pointer, memory.Length, capacity, layout);
        Assert.Equal(capacity, queue.Capacity);
        Assert.Equal(layout, queue.Layout);
        var model = new QueueModel("queue", memory.Pointer, layout, capacity, scenario.StartIndex, scenario.Salt);
        if (scenario.StartIndex != 0)
        {
            model.SetStartIndex(scenario.StartIndex);
            queue = IoQueue.Map(memory.Pointer, memory.Length, layout);
        }

        model.Producer = model.Consumer = queue;
        model.CheckState();
        foreach (QueueOp op in scenario.Ops)
        {
            if (op.Kind == QueueOpKind.Remap)
            {
                model.Producer = model.Consumer = IoQueue.Map(memory.Pointer, memory.Length, layout);
                continue;
            }

            for (int i = 0; i < op.Count; i++)
            {
                if (op.Kind == QueueOpKind.Put)
                {
                    model.Put();
                }
                else
                {
                    model.Pop();
                }
            }
        }

        return Labels(model);
    }

    [Property(MaxTest = 200, Arbitrary = new[] { typeof(Generators) })]
    public Property Creator_and_mapper_pair_behaves_like_two_Queues(QueueScenario scenario)
    {
        uint capacity = (uint)scenario.Capacity;
        QueueLayout layout = QueueLayouts.Of(scenario.Arm64Layout);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(capacity));
        long half = memory.Length / 2;
        if (!QueueLayouts.IsUsable(layout, memory.Pointer) || !QueueLayouts.IsUsable(layout, memory.Pointer + half))
        {
            ShmipcException refused = Assert.Throws<ShmipcException>(() => CreatePair(memory, capacity, layout));
            Assert.Equal(ShmipcErrorCode.InvalidConfiguration, refused.ErrorCode);
            return true.Classify(true, "layout not usable on this CPU");
        }

        IoQueuePair creator = IoQueuePair.Create(memory.Pointer, memory.Length, capacity, isCreator: true, layout);
        Assert.True(creator.IsCreator);
        Assert.Equal(memory.Length, creator.Length);
        var forward = new QueueModel("client→server", memory.Pointer, layout, capacity, scenario.StartIndex, scenario.Salt);
        var reverse = new QueueModel("server→client", memory.Pointer + half, layout, capacity, scenario.StartIndex, ~scenario.Salt);
        if (scenario.StartIndex != 0)
        {
            forward.SetStartIndex(scenario.StartIndex);
            reverse.SetStartIndex(scenario.StartIndex);
            creator = IoQueuePair.Map(memory.Pointer, memory.Length, isCreator: true, layout);
        }

        IoQueuePair mapper = IoQueuePair.Map(memory.Pointer, memory.Length, isCreator: false, layout);
        Assert.False(mapper.IsCreator);
        Bind(creator, mapper, forward, reverse);
        bool forwardSplits = QueueLayouts.StraddlesCacheLine(layout, memory.Pointer);
        bool reverseSplits = QueueLayouts.StraddlesCacheLine(layout, memory.Pointer + half);
        int splitBudget = SplitLockBudget;
        foreach (QueueOp op in scenario.Ops)
        {
            if (op.Kind == QueueOpKind.Remap)
            {
                creator = IoQueuePair.Map(memory.Pointer, memory.Length, isCreator: true, layout);
                mapper = IoQueuePair.Map(memory.Pointer, memory.Length, isCreator: false, layout);
                Bind(creator, mapper, forward, reverse);
                continue;
            }

            QueueModel model = op.Reverse ? reverse : forward;
            for (int i = 0; i < op.Count; i++)
            {
                if (op.Reverse ? reverseSplits : forwardSplits)
                {
                    if (splitBudget == 0)
                    {
                        break;
                    }

                    splitBudget--;
                }

                if (op.Kind == QueueOpKind.Put)
                {
                    model.Put();
                }
                else
                {
                    model.Pop();
                }
            }

            (op.Reverse ? forward : reverse).CheckState(); // the other direction is untouched
        }

        return Labels(forward)
            .Classify(reverse.TimesFull > 0, "reverse queue hit full")
            .Classify(forwardSplits || reverseSplits, "split-lock placement (bounded op budget)");
    }

    private static void Bind(IoQueuePair creator, IoQueuePair mapper, QueueModel forward, QueueModel reverse)
    {
        forward.Producer = creator.SendQueue;
        forward.Consumer = mapper.ReceiveQueue;
        reverse.Producer = mapper.SendQueue;
        reverse.Consumer = creator.ReceiveQueue;
        forward.CheckState();
        reverse.CheckState();
    }

    private static Property Labels(QueueModel model) => true
        .Classify(model.TimesFull > 0, "hit full")
        .Classify(model.TimesEmpty > 0, "hit empty")
        .Classify(model.Wraps >= 3, "wrapped >= 3 times");

    private static void CreateQueue(NativeBuffer memory, uint capacity, QueueLayout layout) =>
        IoQueue.Create(memory.Pointer, memory.Length, capacity, layout);

    private static void CreatePair(NativeBuffer memory, uint capacity, QueueLayout layout) =>
        IoQueuePair.Create(memory.Pointer, memory.Length, capacity, isCreator: true, layout);
}
