using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shmipc.Channels;

namespace Shmipc.AspNetCore.Hosting;

/// <summary>Runs a <see cref="ShmipcListener"/> for the host's lifetime and hands each session to the handler.</summary>
// Design: StartAsync binds (so a bad path fails the host start), ExecuteAsync accepts until the host stops; each
// session runs its handler on its own task, tracked in _sessions so StopAsync can wait for them (the stopping token
// tells handlers to finish) and then dispose what is left.
internal sealed partial class ShmipcListenerService<THandler>(
    IServiceProvider services,
    IOptions<ShmipcListenerOptions> options,
    ILogger<ShmipcListenerService<THandler>> logger) : BackgroundService
    where THandler : class, IShmipcSessionHandler
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ShmipcSession, Task> _sessions = new();
    private ShmipcListener? _listener;

    /// <summary>The bound listener, or null before start and after stop (for the health check).</summary>
    public ShmipcListener? Listener => _listener;

    public int SessionCount => _sessions.Count;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        _listener = ShmipcListener.Bind(o.SocketPath, o.Server);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        var listener = _listener;
        _listener = null;
        if (listener is not null)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_sessions.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout: the sessions are closed below regardless.
        }

        foreach (var session in _sessions.Keys)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listener = _listener!;
        var handler = services.GetRequiredService<THandler>();
        try
        {
            while (true)
            {
                var session = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
                _sessions[session] = ServeAsync(handler, session, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is ShmipcException or System.Threading.Channels.ChannelClosedException or ObjectDisposedException)
        {
            // The listener was disposed: stopping.
        }
    }

    private async Task ServeAsync(THandler handler, ShmipcSession session, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await handler.HandleAsync(session, stoppingToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A handler's failure ends its session, never the listener.
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogHandlerFailed(logger, session.Name, e);
        }
        finally
        {
            _sessions.TryRemove(session, out _);
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(1, LogLevel.Error, "shmipc session {Session}: the session handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, string session, Exception exception);
}
