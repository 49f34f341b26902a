using System.Diagnostics;
using HdrHistogram;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The queue floor: a spin ping-pong between this process and a <c>pingpong-server --transport queue</c> child through
/// shmipc's shared-memory structures (<see cref="QueueFloorLayout"/>): allocate a slice, copy the request in, commit it,
/// put an element; the child pops it, checksums the request, allocates and fills a reply slice, puts it, recycles the
/// request; this side pops the reply, checksums it and recycles it. Everything a session does in shared memory per
/// message, and nothing else: no working flag or wake-up, no socket, no session, stream, lease, channel or await.
/// </summary>
/// <remarks>
/// Between the spin floor and shmipc: spin → queue is what the wire-compatible layout costs (more cache lines change
/// hands per message: queue indexes and element, the free list's head, the slice header); queue → shmipc is what the
/// library's layers above it cost. One stream, round trips only, payloads of one slice.
/// </remarks>
internal sealed class QueueFloorRunner(QueueFloorLayout layout, ServerProcess child) : DedicatedThreadRunner
{
    public const string TransportName = "queue";

    public override string Name => TransportName;

    public override bool Supports(CellSpec cell) => cell.Kind == CellKind.PingPong && cell.Streams == 1;

    public override ServerProcess? Child => child;

    protected override long Loop(MessageSet set, CellPlan plan, LongHistogram? histogram)
    {
        var buffers = layout.Buffers;
        var deadline = plan.DeadlineFrom(Stopwatch.GetTimestamp());
        Span<uint> slice = stackalloc uint[1];
        Span<SliceSegment> segments = stackalloc SliceSegment[1];
        long done = 0;
        var k = 0;
        while (true)
        {
            var t0 = Stopwatch.GetTimestamp();
            if (!buffers.TryAllocate(set.Size, out slice[0]))
            {
                throw new InvalidOperationException($"queue: no free {set.Size}-byte slice (is a reply missing?)");
            }

            set.Get(k).CopyTo(buffers.GetSliceData(slice[0]));
            buffers.CommitChain(slice, set.Size);
            if (!layout.Requests.TryPut(QueueElement.Data(1, slice[0])))
            {
                throw new InvalidOperationException("queue: the request queue is full");
            }

            var spins = 0;
            QueueElement reply;
            while (!layout.Replies.TryPop(out reply))
            {
                SpinLayout.Pause(ref spins);
                if ((spins & 0xFFFFF) == 0 && Stopwatch.GetElapsedTime(t0) > TimeSpan.FromSeconds(10))
                {
                    throw new TimeoutException("queue: no reply within 10 s (is the queue child alive?)");
                }
            }

            if (!buffers.TryReadChain(reply.Offset, segments, out var count, out var length) || count != 1 || length != set.Size
                || !MessageSet.Verify(buffers.GetSpan(segments[0]), out var header) || header != set.Expected(k))
            {
                throw new InvalidDataException($"queue: the echo of message {k} ({set.Size} bytes, {length} received) failed verification");
            }

            buffers.RecycleChain(reply.Offset);
            var t1 = Stopwatch.GetTimestamp();
            histogram?.RecordValue(CellResult.ToNanos(t1 - t0));
            done++;
            k = (k + 1) % MessageSet.Count;
            if (plan.IsDone(done, t1, deadline))
            {
                return done;
            }
        }
    }
}
