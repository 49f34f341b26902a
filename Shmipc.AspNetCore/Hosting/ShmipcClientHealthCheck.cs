using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Shmipc.AspNetCore.Hosting;

/// <summary>Health of a named shmipc client: its session connected and open, or why not.</summary>
internal sealed class ShmipcClientHealthCheck(ShmipcClientSessions sessions, string name) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // Connects when no request has yet: a health probe also tells whether the server can be reached.
            var session = await sessions.Get(name).GetSessionAsync(cancellationToken).ConfigureAwait(false);
            return session.IsClosed
                ? HealthCheckResult.Unhealthy($"shmipc client '{name}': session {session.Name} is closed")
                : HealthCheckResult.Healthy($"shmipc client '{name}': session {session.Name} open, {session.ActiveStreamCount} streams", Data(session));
        }
        catch (Exception e) when (e is Shmipc.Channels.ShmipcException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            return HealthCheckResult.Unhealthy($"shmipc client '{name}': {e.Message}", e);
        }
    }

    internal static Dictionary<string, object> Data(Shmipc.Channels.ShmipcSession session)
    {
        var stats = session.Statistics;
        return new Dictionary<string, object>
        {
            ["streams"] = session.ActiveStreamCount,
            ["slices_in_use"] = stats.SlicesInUse,
            ["slices_total"] = stats.SlicesTotal,
            ["fallback_entries"] = stats.FallbackEntries,
            ["leases_leaked"] = stats.LeasesLeaked,
        };
    }
}
