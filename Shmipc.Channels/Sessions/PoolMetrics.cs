using System.Diagnostics.Metrics;

namespace Shmipc.Channels.Sessions;

/// <summary>The client pool's instruments on the <c>Shmipc</c> meter (process-wide, over every pool).</summary>
internal static class PoolMetrics
{
    private static readonly Counter<long> s_rebuilds = ShmipcInstruments.For(null).Meter.CreateCounter<long>(
        "shmipc.pool.rebuilds", description: "Pool sessions rebuilt after their session died.");

    private static readonly Counter<long> s_hotRestarts = ShmipcInstruments.For(null).Meter.CreateCounter<long>(
        "shmipc.pool.hot_restarts", description: "Hot restarts a client pool completed (every slot moved to the new server).");

    private static readonly UpDownCounter<long> s_sessions = ShmipcInstruments.For(null).Meter.CreateUpDownCounter<long>(
        "shmipc.pool.sessions", description: "Live sessions of client pools that new streams use.");

    public static void Rebuilt() => s_rebuilds.Add(1);

    public static void HotRestarted() => s_hotRestarts.Add(1);

    public static void SessionsChanged(int delta) => s_sessions.Add(delta);
}
