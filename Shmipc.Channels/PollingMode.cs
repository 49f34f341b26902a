namespace Shmipc.Channels;

/// <summary>How the reactor waits for traffic.</summary>
public enum PollingMode
{
    /// <summary>Spin briefly after traffic (holding the working flag so peers send no wake-ups), then park in epoll. The default.</summary>
    Balanced = 0,

    /// <summary>Spin longer after traffic: lowest latency, one busy core while traffic flows.</summary>
    Latency = 1,

    /// <summary>Never spin: park in epoll as soon as the queues are empty. Lowest CPU use.</summary>
    LowCpu = 2,
}
