using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Shmipc.AspNetCore.Hosting;

/// <summary>Health of a hosted shmipc listener: bound and accepting, with how many sessions it serves.</summary>
internal sealed class ShmipcListenerHealthCheck<THandler>(ShmipcListenerService<THandler> service) : IHealthCheck
    where THandler : class, IShmipcSessionHandler
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var listener = service.Listener;
        var result = listener is null
            ? HealthCheckResult.Unhealthy("shmipc listener is not running")
            : HealthCheckResult.Healthy(
                $"shmipc listener on {listener.SocketPath}: {service.SessionCount} sessions",
                new Dictionary<string, object> { ["sessions"] = service.SessionCount });
        return Task.FromResult(result);
    }
}
