namespace Shmipc.Channels.Reactor;

/// <summary>
/// The process-wide knob of the spin strategy, with the default measurement chose. Internal and settable only so the
/// benchmark harness can run strategies side by side in one run (<c>pingpong --modes latency,latency+y1</c>): on a
/// shared, noisy machine only an interleaved A/B tells a 20 % change from the weather. Set once per process, before
/// traffic.
/// </summary>
internal static class SpinTuning
{
    /// <summary>Every how many spin rounds one yields the core (the others pause); 1 yields on every round.</summary>
    /// <remarks>
    /// 64 rounds are a few microseconds. Side by side (4 runs, 64 B x 1 ping-pong): p50 3.0-3.4 µs against 4.6-5.8 µs
    /// when yielding on every round, in Latency and Balanced alike. See SpinBackoff.
    /// </remarks>
    public static int RoundsPerYield { get; set; } = 64;
}
