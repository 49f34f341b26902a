using System.Globalization;
using Shmipc.Channels.Reactor;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// One shmipc configuration of both sides (<c>--modes balanced,latency,balanced+reactor</c>): its own server child and
/// column. <see cref="RoundsPerYield"/> (suffix <c>+yN</c>) sets the spin's pause/yield mix of both processes, so two
/// spin strategies can run side by side in one run (an A/B on a noisy machine).
/// </summary>
internal sealed record ShmipcMode(PollingMode Polling, bool OnReactor, int? RoundsPerYield = null)
{
    // The library's default, read before any configuration changes it.
    private static readonly int DefaultRoundsPerYield = SpinTuning.RoundsPerYield;

    /// <summary>Applies the spin knobs of this configuration to this process (they are process-wide).</summary>
    public void ApplySpinTuning()
    {
        SpinTuning.RoundsPerYield = RoundsPerYield ?? DefaultRoundsPerYield;
    }

    /// <summary>The arguments that give the server child the same spin knobs.</summary>
    public IEnumerable<string> SpinArguments()
    {
        if (RoundsPerYield is { } n)
        {
            yield return "--rounds-per-yield";
            yield return n.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The name in the table: <c>shm-balanced</c>, <c>shm-latency+reactor</c>, <c>shm-latency+y8</c>, …</summary>
    public string Name => $"shm-{Polling.ToString().ToLowerInvariant()}{(OnReactor ? "+reactor" : string.Empty)}{(RoundsPerYield is { } n ? $"+y{n}" : string.Empty)}";

    /// <summary>Parses <c>MODE[+reactor][+yN]</c> (MODE = balanced | latency | lowcpu; N = spin rounds per yield).</summary>
    public static ShmipcMode Parse(string text)
    {
        var parts = text.Split('+', StringSplitOptions.TrimEntries);
        var onReactor = false;
        int? roundsPerYield = null;
        foreach (var part in parts.Skip(1))
        {
            if (part.Equals("reactor", StringComparison.OrdinalIgnoreCase))
            {
                onReactor = true;
            }
            else if (part.Length > 1 && part[0] == 'y' && int.TryParse(part.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                roundsPerYield = n;
            }
            else
            {
                throw new ArgumentException($"--modes {text}: use MODE[+reactor][+yN]");
            }
        }

        return new ShmipcMode(PingPongOptions.ParseMode(parts[0]), onReactor, roundsPerYield);
    }
}
