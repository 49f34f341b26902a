using Shmipc.Channels;

namespace Shmipc.AspNetCore.Client;

/// <summary>Where the HTTP connection factory gets a session to open streams on (one session today; a pool later).</summary>
internal interface ISessionSource : IAsyncDisposable
{
    /// <summary>A session that is open now (connected on first use, reconnected after it closed).</summary>
    ValueTask<ShmipcSession> GetSessionAsync(CancellationToken cancellationToken);

    /// <summary>The session in use, if any (for health checks); null before the first connection.</summary>
    ShmipcSession? Current { get; }
}
