// Property 5b — hostile bytes as an IO-queue object (docs/PROTOCOL.md §4.3).
// Invariant: IoQueuePair.Map over exactly `length` bytes of native memory holding random bytes (0..64 KiB),
// plausibly shaped headers (caps matching the length, head/tail close together), or a valid Create'd pair
// with one header field of one half corrupted (cap, head, tail, working flag), with either layout and either
// role, either throws ShmipcException(CorruptSharedMemory) or returns a pair whose halves have
// 24 + 12·cap == length / 2; later puts, pops and working-flag calls on both queues then either throw
// CorruptSharedMemory or behave (a put that fails leaves Count == cap, a pop that fails leaves Count == 0).
// Never another exception type; an access outside the mapping would crash the test host (the image ends at a
// guard page). A queue whose head or tail straddles a cache line gets no puts/pops here (split locks, see
// IoQueueModelProperties); its working-flag calls still run.
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

public sealed unsafe class HostileQueueProperties
{
    [Property(MaxTest = 400, Arbitrary = new[] { typeof(Generators) })]
    public Property Hostile_queue_images_are_rejected_or_stay_in_bounds(HostileQueueCase hostile)
    {
        QueueLayout? layout = hostile.LayoutChoice switch { 1 => QueueLayout.Amd64, 2 => QueueLayout.Arm64, _ => null };
        QueueLayout effective = layout ?? QueueLayout.Current;
        using var memory = NativeBuffer.WithGuardPage(hostile.Length);
        long half = memory.Length / 2;
        if (hostile.Kind == HostileKind.CorruptedField
            && !(QueueLayouts.IsUsable(effective, memory.Pointer) && QueueLayouts.IsUsable(effective, memory.Pointer + half)))
        {
            return true.Classify(true, "layout not usable on this CPU");
        }

        string what = HostileImages.BuildQueue(hostile, memory, effective);
        IoQueuePair? pair = null;
        ShmipcException? rejected = Verify.OnlyThrows(ShmipcErrorCode.CorruptSharedMemory, () => pair = MapOn(memory, hostile.IsCreator, layout), $"IoQueuePair.Map ({what})");
        if (rejected is not null)
        {
            return true.Classify(true, $"{hostile.Kind}: rejected by Map");
        }

        Verify.That(
            pair!.Length == memory.Length && pair.SendQueue.Capacity == pair.ReceiveQueue.Capacity && 24 + (12L * pair.SendQueue.Capacity) == half,
            $"mapped hostile queue ({what}): length {pair.Length}, caps {pair.SendQueue.Capacity}/{pair.ReceiveQueue.Capacity}");
        int corruptSteps = 0;
        foreach (IoQueue queue in new[] { pair.SendQueue, pair.ReceiveQueue })
        {
            bool first = (queue == pair.SendQueue) == pair.IsCreator;
            bool straddles = QueueLayouts.StraddlesCacheLine(effective, memory.Pointer + (first ? 0 : half));
            corruptSteps += Exercise(queue, straddles ? 0 : (2 * (int)queue.Capacity) + 8, what); // 0: split locks, see IoQueueModelProperties
        }

        return true.Classify(true, $"{hostile.Kind}: mapped, {(corruptSteps > 0 ? "a later step found corruption" : "every later step succeeded")}");
    }

    /// <summary>Puts until full, pops until empty, then the working-flag calls; returns how many steps found corruption.</summary>
    private static int Exercise(IoQueue queue, int budget, string what)
    {
        int corrupt = 0;
        corrupt += Guard("TryPut", what, () =>
        {
            int k = 0;
            while (k < budget && queue.TryPut(QueueElement.Data((uint)k, (uint)k * 20)))
            {
                k++;
            }

            Verify.That(k == budget || queue.Count == queue.Capacity, $"TryPut failed with Count {queue.Count} of {queue.Capacity} ({what})");
        });
        corrupt += Guard("TryPop", what, () =>
        {
            int k = 0;
            while (k < budget && queue.TryPop(out _))
            {
                k++;
            }

            Verify.That(k == budget || queue.Count == 0, $"TryPop failed with Count {queue.Count} ({what})");
        });
        corrupt += Guard("MarkWorking", what, () => queue.MarkWorking());
        corrupt += Guard("MarkNotWorking", what, () => queue.MarkNotWorking());
        _ = queue.Count;
        _ = queue.IsWorking;
        return corrupt;
    }

    private static int Guard(string operation, string what, Action action) =>
        Verify.OnlyThrows(ShmipcErrorCode.CorruptSharedMemory, action, $"{operation} on a mapped hostile queue ({what})") is null ? 0 : 1;

    private static IoQueuePair MapOn(NativeBuffer memory, bool isCreator, QueueLayout? layout) =>
        IoQueuePair.Map(memory.Pointer, memory.Length, isCreator, layout);
}
