using Shmipc.Channels;

namespace Shmipc.AspNetCore.Client;

/// <summary>One shmipc session to a server, connected on first use and again after it closed.</summary>
// Design: _session is replaced under _gate (one connect at a time); the fast path reads it without the lock and
// checks IsClosed. A closed session is disposed by whoever replaces it; its streams have already failed.
internal sealed class SingleSessionSource(string socketPath, ShmipcClientOptions? options) : ISessionSource
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile ShmipcSession? _session;
    private bool _disposed;

    public ShmipcSession? Current => _session;

    public ValueTask<ShmipcSession> GetSessionAsync(CancellationToken cancellationToken)
    {
        var session = _session;
        return session is { IsClosed: false } ? new ValueTask<ShmipcSession>(session) : ConnectAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_session is { } session)
            {
                _session = null;
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<ShmipcSession> ConnectAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var session = _session;
            if (session is { IsClosed: false })
            {
                return session;
            }

            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            session = await ShmipcClient.ConnectAsync(socketPath, options, cancellationToken).ConfigureAwait(false);
            _session = session;
            return session;
        }
        finally
        {
            _gate.Release();
        }
    }
}
