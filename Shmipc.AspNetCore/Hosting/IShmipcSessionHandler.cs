using Shmipc.Channels;

namespace Shmipc.AspNetCore;

/// <summary>Serves one accepted session of a hosted shmipc listener (resolved from DI, one call per session).</summary>
public interface IShmipcSessionHandler
{
    /// <summary>Serves <paramref name="session"/> until it ends or <paramref name="cancellationToken"/> fires (the host stops).</summary>
    /// <param name="session">The session; the listener disposes it when this returns.</param>
    /// <param name="cancellationToken">Fires when the host stops.</param>
    /// <returns>A task that completes when the session is served.</returns>
    Task HandleAsync(ShmipcSession session, CancellationToken cancellationToken);
}
