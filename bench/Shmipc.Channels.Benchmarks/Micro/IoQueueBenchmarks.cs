using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// One IO queue (8192 elements) in native memory, seen through two views as in a real session: the creator's
/// <see cref="IoQueuePair.SendQueue"/> (producer) and the mapper's <see cref="IoQueuePair.ReceiveQueue"/> (consumer),
/// each with its own cached peer index.
/// </summary>
[Config(typeof(FastConfig))]
[MemoryDiagnoser]
public unsafe class IoQueueBenchmarks
{
    private const uint Capacity = 8192;
    private const int Batch = 64;

    private byte* _memory;
    private IoQueue _producer = null!;
    private IoQueue _consumer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var length = IoQueuePair.SizeFor(Capacity);
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)length, 64);
        var creator = IoQueuePair.Create(_memory, length, Capacity, isCreator: true, QueueLayout.Current);
        var mapper = IoQueuePair.Map(_memory, length, isCreator: false, QueueLayout.Current);
        _producer = creator.SendQueue;
        _consumer = mapper.ReceiveQueue;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_memory);
        _memory = null;
    }

    /// <summary>One element put by the producer and popped by the consumer.</summary>
    [Benchmark]
    public uint PutPop()
    {
        if (!_producer.TryPut(new QueueElement(2, 4096, 0)) || !_consumer.TryPop(out var element))
        {
            throw new InvalidOperationException("queue put/pop failed");
        }

        return element.Offset;
    }

    /// <summary>64 puts then 64 pops (a drained batch); reported per element.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public uint PutPopBatch64()
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!_producer.TryPut(new QueueElement(2, (uint)i, 0)))
            {
                throw new InvalidOperationException("queue full");
            }
        }

        uint sum = 0;
        while (_consumer.TryPop(out var element))
        {
            sum += element.Offset;
        }

        return sum;
    }

    /// <summary>
    /// The wake-up handshake of docs/PROTOCOL.md §6 on an empty queue: the producer's CAS 0→1 (it would send a SyncEvent)
    /// and the consumer's fenced clear + emptiness re-check before it parks.
    /// </summary>
    [Benchmark]
    public bool MarkWorkingNotWorking()
    {
        var mustNotify = _producer.MarkWorking();
        return _consumer.MarkNotWorking() & mustNotify;
    }
}
