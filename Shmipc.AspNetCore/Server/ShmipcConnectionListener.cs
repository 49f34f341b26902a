using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shmipc.Channels;

namespace Shmipc.AspNetCore.Server;

/// <summary>
/// Accepts shmipc sessions on one socket and turns every stream a client opens into a Kestrel connection.
/// </summary>
// Design: one loop accepts sessions; one loop per session accepts its streams. Both write to _connections, which
// AcceptAsync (Kestrel's single accept loop) reads. UnbindAsync stops both kinds of accept (new sessions and new
// streams: a stream opened afterwards is closed at once) but leaves the accepted connections and their sessions alone,
// so Kestrel can drain them; DisposeAsync closes the sessions (Kestrel calls it after the drain or its timeout).
internal sealed partial class ShmipcConnectionListener : IConnectionListener
{
    private readonly ShmipcListener _listener;
    private readonly ShmipcEndPoint _endPoint;
    private readonly ILogger _logger;
    private readonly Channel<ConnectionContext> _connections = Channel.CreateUnbounded<ConnectionContext>(new() { SingleReader = true });
    private readonly ConcurrentDictionary<ShmipcSession, Task> _sessions = new();
    private readonly CancellationTokenSource _unbind = new();
    private readonly Task _acceptLoop;
    private int _disposed;

    private ShmipcConnectionListener(ShmipcListener listener, ShmipcEndPoint endPoint, ILogger logger)
    {
        _listener = listener;
        _endPoint = endPoint;
        _logger = logger;
        _acceptLoop = AcceptSessionsAsync();
        _ = LogHandshakeFailuresAsync();
    }

    /// <inheritdoc />
    public EndPoint EndPoint => _endPoint;

    public static ShmipcConnectionListener Bind(ShmipcEndPoint endPoint, ILogger logger) =>
        new(ShmipcListener.Bind(endPoint.SocketPath, endPoint.Options), endPoint, logger);

    /// <inheritdoc />
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        // WaitToReadAsync + TryRead, not ReadAsync: on .NET 10 a ReadAsync cancelled as a connection arrives can drop
        // that connection (dotnet/runtime#132094); a cancelled wait takes nothing.
        while (await _connections.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_connections.Reader.TryRead(out var connection))
            {
                return connection;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (_unbind.IsCancellationRequested)
        {
            return;
        }

        await _unbind.CancelAsync().ConfigureAwait(false);

        // Stops new sessions and removes the socket file; sessions already accepted are not closed by this.
        await _listener.DisposeAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_sessions.Values).ConfigureAwait(false);
        _connections.Writer.TryComplete();

        // Connections accepted but never taken by Kestrel.
        while (_connections.Reader.TryRead(out var connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnbindAsync().ConfigureAwait(false);
        foreach (var session in _sessions.Keys)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _unbind.Dispose();
    }

    private async Task AcceptSessionsAsync()
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                var session = await _listener.AcceptAsync(_unbind.Token).ConfigureAwait(false);
                LogSessionAccepted(_logger, session.Name, _endPoint);
                _sessions[session] = AcceptStreamsAsync(session);
            }
        }
        catch (OperationCanceledException) when (_unbind.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is ShmipcException or ChannelClosedException or ObjectDisposedException)
        {
            // The listener was disposed under the loop: unbinding.
        }
    }

    private async Task AcceptStreamsAsync(ShmipcSession session)
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                var stream = await session.AcceptStreamAsync(_unbind.Token).ConfigureAwait(false);
                var connection = new ShmipcConnection(stream.AsDuplexPipe(), _endPoint);
                if (!_connections.Writer.TryWrite(connection))
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_unbind.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is ShmipcException or ChannelClosedException)
        {
            // The session ended (the client went away, or it failed: its Completion says why).
            _sessions.TryRemove(session, out _);
            LogSessionEnded(_logger, session.Name, e.Message);
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task LogHandshakeFailuresAsync()
    {
        try
        {
            await foreach (var failure in _listener.HandshakeFailures.ReadAllAsync(_unbind.Token).ConfigureAwait(false))
            {
                LogHandshakeFailed(_logger, _endPoint, failure.Message);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(3, LogLevel.Warning, "shmipc handshake on {EndPoint} failed: {Reason}")]
    private static partial void LogHandshakeFailed(ILogger logger, ShmipcEndPoint endPoint, string reason);

    [LoggerMessage(1, LogLevel.Debug, "shmipc session {Session} accepted on {EndPoint}")]
    private static partial void LogSessionAccepted(ILogger logger, string session, ShmipcEndPoint endPoint);

    [LoggerMessage(2, LogLevel.Debug, "shmipc session {Session} ended: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, string session, string reason);
}
