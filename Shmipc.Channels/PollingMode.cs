namespace Shmipc.Channels;

/// <summary>How the reactor, and a reader waiting on <see cref="ShmipcStream.Input"/>, wait for traffic.</summary>
/// <remarks>
/// A spin pauses the core between polls and yields it every few microseconds (on every poll while several threads of
/// the process spin). It ends early, whatever budget is left, when it loses the core (a poll comes back late: other
/// work wants the core): on a busy machine a spinning waiter would take the core from the thread that is to produce
/// the message it waits for. It then parks and the producer wakes it.
/// </remarks>
public enum PollingMode
{
    /// <summary>Spin briefly after traffic (holding the working flag so peers send no wake-ups), then park in epoll. The default.</summary>
    Balanced = 0,

    /// <summary>Spin longer after traffic (2 ms, against 50 µs): lowest latency, one busy core while traffic flows and the machine has it to spare.</summary>
    Latency = 1,

    /// <summary>Never spin: park in epoll as soon as the queues are empty. Lowest CPU use.</summary>
    LowCpu = 2,
}
