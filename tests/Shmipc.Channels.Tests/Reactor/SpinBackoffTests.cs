using System.Diagnostics;
using Shmipc.Channels.Reactor;
using Xunit;

namespace Shmipc.Channels.Tests.Reactor;

public class SpinBackoffTests
{
    [Fact]
    public void A_zero_budget_never_spins()
    {
        var backoff = new SpinBackoff(0);
        Assert.False(backoff.TryYield());
    }

    [Fact]
    public void An_uncontended_spin_runs_until_its_budget_is_spent()
    {
        var backoff = new SpinBackoff(Stopwatch.Frequency); // one second
        for (var i = 0; i < 100; i++)
        {
            backoff.Observe(0);
        }

        Assert.False(backoff.WasContended);
        Assert.Equal(Environment.ProcessorCount > 1, backoff.TryYield());
    }

    [Fact]
    public void The_spin_ends_after_contended_rounds_whatever_budget_is_left()
    {
        var backoff = new SpinBackoff(long.MaxValue / 2);
        for (var i = 0; i < SpinBackoff.ContendedRounds; i++)
        {
            backoff.Observe(SpinBackoff.ContendedYieldTicks + 1);
        }

        Assert.True(backoff.WasContended);
        Assert.False(backoff.TryYield());
    }

    [Fact]
    public void Short_yields_are_not_contention()
    {
        var backoff = new SpinBackoff(long.MaxValue / 2);
        for (var i = 0; i < 1000; i++)
        {
            backoff.Observe(SpinBackoff.ContendedYieldTicks);
        }

        Assert.False(backoff.WasContended);
    }

    [Fact]
    public void Restart_keeps_the_contention_seen_so_far()
    {
        var backoff = new SpinBackoff(Stopwatch.Frequency / 1000); // 1 ms
        backoff.Observe(SpinBackoff.ContendedYieldTicks + 1);
        var spent = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 500);
        while (Stopwatch.GetTimestamp() < spent)
        {
            Thread.SpinWait(100);
        }

        Assert.False(backoff.TryYield());
        backoff.Restart();
        backoff.Observe(SpinBackoff.ContendedYieldTicks + 1);
        Assert.True(backoff.WasContended);
        Assert.False(backoff.TryYield());
    }
}
