using System.Diagnostics;
using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The hardware floor: a minimal spin ping-pong between this process and a <c>pingpong-server --transport spin</c>
/// child over a /dev/shm file (<see cref="SpinLayout"/>), with the same copies and checksums as every transport. One
/// stream, round trips only: more spinning pairs than cores would measure the scheduler, not the memory.
/// </summary>
internal sealed class SpinRunner(SpinLayout layout, ServerProcess child) : DedicatedThreadRunner
{
    private long _sequence;

    public override string Name => "spin";

    public override bool Supports(CellSpec cell) => cell.Kind == CellKind.PingPong && cell.Streams == 1 && cell.Size <= layout.AreaSize;

    public override ServerProcess? Child => child;

    protected override long Loop(MessageSet set, CellPlan plan, LongHistogram? histogram)
    {
        var deadline = plan.DeadlineFrom(Stopwatch.GetTimestamp());
        long done = 0;
        var k = 0;
        while (true)
        {
            var t0 = Stopwatch.GetTimestamp();
            set.Get(k).CopyTo(layout.RequestArea(set.Size));
            layout.Length(SpinLayout.RequestLine) = set.Size;
            var sequence = ++_sequence;
            Volatile.Write(ref layout.Sequence(SpinLayout.RequestLine), sequence);
            var spins = 0;
            while (Volatile.Read(ref layout.Sequence(SpinLayout.ReplyLine)) != sequence)
            {
                SpinLayout.Pause(ref spins);
                if ((spins & 0xFFFFF) == 0 && Stopwatch.GetElapsedTime(t0) > TimeSpan.FromSeconds(10))
                {
                    throw new TimeoutException("spin: no reply within 10 s (is the spin child alive?)");
                }
            }

            var length = layout.Length(SpinLayout.ReplyLine);
            if (length != set.Size || !MessageSet.Verify(layout.ReplyArea(length), out var header) || header != set.Expected(k))
            {
                throw new InvalidDataException($"spin: the echo of message {k} ({set.Size} bytes, {length} received) failed verification");
            }

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
