namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>One shmipc configuration of both sides (<c>--modes balanced,latency,balanced+reactor</c>): its own server child and column.</summary>
internal sealed record ShmipcMode(PollingMode Polling, bool OnReactor)
{
    /// <summary>The name in the table: <c>shm-balanced</c>, <c>shm-latency+reactor</c>, …</summary>
    public string Name => $"shm-{Polling.ToString().ToLowerInvariant()}{(OnReactor ? "+reactor" : string.Empty)}";

    /// <summary>Parses <c>MODE[+reactor]</c> (MODE = balanced | latency | lowcpu).</summary>
    public static ShmipcMode Parse(string text)
    {
        var parts = text.Split('+', StringSplitOptions.TrimEntries);
        var onReactor = parts.Length switch
        {
            1 => false,
            2 when parts[1].Equals("reactor", StringComparison.OrdinalIgnoreCase) => true,
            _ => throw new ArgumentException($"--modes {text}: use MODE or MODE+reactor"),
        };
        return new ShmipcMode(PingPongOptions.ParseMode(parts[0]), onReactor);
    }
}
