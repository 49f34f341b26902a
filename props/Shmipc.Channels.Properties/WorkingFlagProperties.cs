// Property 4 — the working-flag protocol loses no wake-up (docs/PROTOCOL.md §6, §4.3).
// Invariant: a producer thread puts N elements, after each put doing `if (queue.MarkWorking()) signal()`;
// a consumer thread waits for a signal, then drains `do { while (TryPop) ... } while (!MarkNotWorking())`.
// Every element is consumed, in order, and no wait times out: a put is either seen by the current drain or
// its MarkWorking wins and signals. The signal is a SemaphoreSlim standing in for the SyncEvent (Polling)
// frame; a missed wake-up is permanent, so it shows as a wait that times out (bounded at 10 s) rather than as
// a slow run. At the end a working flag left at 1 must have a signal still pending (else the next put would
// never wake the consumer). The producer retries a full queue by spinning (SpinWait without Sleep(1)).
// Producer and consumer use the creator's SendQueue and the mapper's ReceiveQueue of one IoQueuePair.
using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Memory;
using Xunit;

namespace Shmipc.Channels.Properties;

public sealed unsafe class WorkingFlagProperties
{
    private static readonly TimeSpan WakeupTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    [Property(MaxTest = 100, Arbitrary = new[] { typeof(Generators) })]
    public Property Working_flag_protocol_loses_no_wakeup(WakeupScenario scenario)
    {
        uint capacity = (uint)scenario.Capacity;
        QueueLayout layout = QueueLayouts.Of(scenario.Arm64Layout);
        using var memory = new NativeBuffer(IoQueuePair.SizeFor(capacity));
        if (!QueueLayouts.IsUsable(layout, memory.Pointer) || !QueueLayouts.IsUsable(layout, memory.Pointer + (memory.Length / 2)))
        {
            return true.Classify(true, "layout not usable on this CPU");
        }

        IoQueuePair creator = IoQueuePair.Create(memory.Pointer, memory.Length, capacity, isCreator: true, layout);
        IoQueuePair mapper = IoQueuePair.Map(memory.Pointer, memory.Length, isCreator: false, layout);
        var run = new WakeupRun(creator.SendQueue, mapper.ReceiveQueue, (uint)scenario.Elements, scenario.ConsumerYields);
        run.Execute(WakeupTimeout, RunTimeout);

        Verify.That(run.Failure is null, run.Failure ?? string.Empty);
        Verify.That(run.Consumed == (uint)scenario.Elements, $"consumed {run.Consumed} of {scenario.Elements}");
        Verify.That(mapper.ReceiveQueue.Count == 0, $"{mapper.ReceiveQueue.Count} elements left in the queue");
        Verify.That(!mapper.ReceiveQueue.IsWorking || run.PendingSignals > 0, "the working flag is left at 1 with no signal pending: the next put would never wake the consumer");
        return true
            .Classify(run.Wakeups < scenario.Elements, "batched (fewer wake-ups than elements)")
            .Classify(run.ProducerFoundFull, "producer found the queue full");
    }

    /// <summary>The two threads of one case.</summary>
    private sealed class WakeupRun
    {
        private readonly IoQueue _producerQueue;
        private readonly IoQueue _consumerQueue;
        private readonly uint _count;
        private readonly bool _consumerYields;
        private readonly SemaphoreSlim _signal = new(0);
        private string? _failure;
        private volatile bool _stop;
        private TimeSpan _wakeupTimeout;

        public WakeupRun(IoQueue producerQueue, IoQueue consumerQueue, uint count, bool consumerYields)
        {
            _producerQueue = producerQueue;
            _consumerQueue = consumerQueue;
            _count = count;
            _consumerYields = consumerYields;
        }

        public string? Failure => Volatile.Read(ref _failure);

        public uint Consumed { get; private set; }

        public int Wakeups { get; private set; }

        public bool ProducerFoundFull { get; private set; }

        public int PendingSignals => _signal.CurrentCount;

        public void Execute(TimeSpan wakeupTimeout, TimeSpan runTimeout)
        {
            _wakeupTimeout = wakeupTimeout;
            var producer = new Thread(Produce) { IsBackground = true, Name = "props wakeup producer" };
            var consumer = new Thread(Consume) { IsBackground = true, Name = "props wakeup consumer" };
            consumer.Start();
            producer.Start();
            var clock = Stopwatch.StartNew();
            bool joined = producer.Join(runTimeout) & consumer.Join(runTimeout - clock.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero);
            if (!joined)
            {
                Fail($"the run did not finish within {runTimeout}");
                _stop = true;
                _signal.Release(); // unblock the consumer so both threads end
                producer.Join(wakeupTimeout);
                consumer.Join(wakeupTimeout);
            }

            _signal.Dispose();
        }

        private void Produce()
        {
            try
            {
                for (uint i = 0; i < _count; i++)
                {
                    var element = QueueElement.Data(i, 44 + (i * 8192));
                    var spin = default(SpinWait);
                    while (!_producerQueue.TryPut(element))
                    {
                        ProducerFoundFull = true;
                        if (_stop)
                        {
                            return;
                        }

                        spin.SpinOnce(sleep1Threshold: -1);
                    }

                    if (_producerQueue.MarkWorking())
                    {
                        _signal.Release();
                    }
                }
            }
            catch (Exception e)
            {
                Fail($"producer: {e}");
            }
        }

        private void Consume()
        {
            try
            {
                uint next = 0;
                while (next < _count && !_stop)
                {
                    if (!_signal.Wait(_wakeupTimeout))
                    {
                        Fail($"lost wake-up: no signal for {_wakeupTimeout.TotalSeconds} s with {next} of {_count} consumed; queue count {_consumerQueue.Count}, working flag {_consumerQueue.IsWorking}");
                        return;
                    }

                    Wakeups++;
                    do
                    {
                        while (_consumerQueue.TryPop(out QueueElement element))
                        {
                            if (element.StreamId != next)
                            {
                                Fail($"element {element.StreamId} arrived when {next} was due");
                                return;
                            }

                            next++;
                        }

                        if (_consumerYields)
                        {
                            Thread.Yield();
                        }
                    }
                    while (!_consumerQueue.MarkNotWorking());
                }

                Consumed = next;
            }
            catch (Exception e)
            {
                Fail($"consumer: {e}");
            }
        }

        private void Fail(string message)
        {
            Interlocked.CompareExchange(ref _failure, message, null);
            _stop = true;
        }
    }
}
