using System.Diagnostics;

namespace Shmipc.Channels.Reactor;

/// <summary>
/// One spin-wait: pauses the core on most rounds, yields it every <see cref="SpinTuning.RoundsPerYield"/> rounds (on every round
/// while other threads of this process spin too), and says when to stop, either because the budget is spent or
/// because the spin is contended. Used by the reactor's spin, by readers that wait for a message and by writers that
/// wait for queue room.
/// </summary>
// Design: a spin only pays off while this core is otherwise idle. Each round is timed (from the end of the last
// round to the start of this one, i.e. the caller's poll plus our pause or yield): a round that took longer than
// ContendedYieldTicks means this thread lost the core for that long, to a sched_yield that handed it over or to a
// preemption, so another runnable thread (on a busy machine, quite possibly the one that would produce the awaited
// message: the peer process, a writer) wants it. After ContendedRounds such rounds the spin ends (the caller parks and
// is woken by the producer), however much budget is left.
// Why not yield every round: sched_yield is a syscall, and under this VM's paravirtualisation a costly one; a perf
// profile of a Latency-mode 64 B ping-pong had 43 % of all samples in it, and the message waited behind it. A pause
// round sees the message within tens of nanoseconds. The periodic yield still lets a runnable thread of the same
// core run (without waiting for a preemption tick) and keeps the contention check responsive. While more than one
// thread of this process spins (readers of several streams, a writer waiting for room: Enter/Exit count them; the
// reactor does not spin while readers do) there are spinners that may share a core, and pausing would keep the one
// that holds a core from handing it to the one that would find the message: then every round yields, as it used to.
// With one processor there is never anyone to spin against: the budget is 0. Mutable struct, one per wait, no allocation.
internal struct SpinBackoff
{
    /// <summary>A round that takes longer than this (50 µs) lost the core to real work, not to another spinner.</summary>
    internal static long ContendedYieldTicks => Stopwatch.Frequency / 20_000;

    /// <summary>Contended rounds after which the spin ends.</summary>
    internal const int ContendedRounds = 2;

    // Readers and writers of this process that are spinning now (Enter/Exit).
    private static int s_spinners;

    private readonly long _budgetTicks;
    private long _start;
    private long _last;
    private int _rounds;
    private int _contended;

    /// <summary>Starts a spin of at most <paramref name="budgetTicks"/> Stopwatch ticks (0: do not spin).</summary>
    public SpinBackoff(long budgetTicks)
    {
        _budgetTicks = Environment.ProcessorCount > 1 ? budgetTicks : 0;
        _start = Stopwatch.GetTimestamp();
        _last = _start;
    }

    /// <summary>A reader or writer starts spinning (pair with <see cref="Exit"/>).</summary>
    public static void Enter() => Interlocked.Increment(ref s_spinners);

    /// <summary>A reader or writer stops spinning.</summary>
    public static void Exit() => Interlocked.Decrement(ref s_spinners);

    /// <summary>Whether the spin ended because it was contended (for tests and metrics).</summary>
    public readonly bool WasContended => _contended >= ContendedRounds;

    /// <summary>Work arrived: the budget starts again (contention seen so far is kept).</summary>
    public void Restart()
    {
        _start = Stopwatch.GetTimestamp();
        _last = _start;
    }

    /// <summary>Pauses or yields the core once if the spin should go on; false (without waiting) when it should end.</summary>
    public bool TryYield()
    {
        var now = Stopwatch.GetTimestamp();
        Observe(now - _last);
        if (_contended >= ContendedRounds || now - _start >= _budgetTicks)
        {
            return false;
        }

        if (++_rounds % SpinTuning.RoundsPerYield == 0 || Volatile.Read(ref s_spinners) > 1)
        {
            Thread.Yield();
        }
        else
        {
            Thread.SpinWait(1);
        }

        _last = now;
        return true;
    }

    /// <summary>Accounts one round that took <paramref name="roundTicks"/> (separate from the clock for tests).</summary>
    internal void Observe(long roundTicks)
    {
        if (roundTicks > ContendedYieldTicks)
        {
            _contended++;
        }
    }
}
