using System.Diagnostics;

namespace Shmipc.Channels.Reactor;

/// <summary>
/// One spin-wait: yields the core on every round and says when to stop, either because the budget is spent or
/// because the spin is contended. Used by the reactor's spin and by readers that wait for a message.
/// </summary>
// Design: a spin only pays off while this core is otherwise idle. Thread.Yield returns at once when no other thread
// wants the core; when it returns late, another runnable thread (on a busy machine, quite possibly the one that would
// produce the awaited message: the peer process, a writer) ran in our place for that long, and every further round
// takes the core from it again. So each yield is timed, and after ContendedRounds rounds that came back later than
// ContendedYieldTicks the spin ends (the caller parks and is woken by the producer), however much budget is left.
// With one processor there is never anyone to spin against: the budget is 0. Mutable struct, one per wait, no allocation.
internal struct SpinBackoff
{
    /// <summary>A yield that takes longer than this (50 µs) gave the core to real work, not to another spinner.</summary>
    internal static long ContendedYieldTicks => Stopwatch.Frequency / 20_000;

    /// <summary>Contended rounds after which the spin ends.</summary>
    internal const int ContendedRounds = 2;

    private readonly long _budgetTicks;
    private long _start;
    private int _contended;

    /// <summary>Starts a spin of at most <paramref name="budgetTicks"/> Stopwatch ticks (0: do not spin).</summary>
    public SpinBackoff(long budgetTicks)
    {
        _budgetTicks = Environment.ProcessorCount > 1 ? budgetTicks : 0;
        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>Whether the spin ended because it was contended (for tests and metrics).</summary>
    public readonly bool WasContended => _contended >= ContendedRounds;

    /// <summary>Work arrived: the budget starts again (contention seen so far is kept).</summary>
    public void Restart() => _start = Stopwatch.GetTimestamp();

    /// <summary>Yields the core once if the spin should go on; false (without yielding) when it should end.</summary>
    public bool TryYield()
    {
        var now = Stopwatch.GetTimestamp();
        if (_contended >= ContendedRounds || now - _start >= _budgetTicks)
        {
            return false;
        }

        Thread.Yield();
        Observe(Stopwatch.GetTimestamp() - now);
        return true;
    }

    /// <summary>Accounts one round whose yield took <paramref name="yieldTicks"/> (separate from the clock for tests).</summary>
    internal void Observe(long yieldTicks)
    {
        if (yieldTicks > ContendedYieldTicks)
        {
            _contended++;
        }
    }
}
