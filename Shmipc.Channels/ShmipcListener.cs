using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Reactor;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels;

/// <summary>
/// A shmipc server: listens on a Unix domain socket (or TCP for file-mode clients), runs the handshake with each
/// client (shmipc-go, shmipc-rs or Shmipc.NET) and hands out the sessions.
/// </summary>
/// <example>
/// <code>
/// await using var listener = ShmipcListener.Bind("/tmp/app.sock");
/// var session = await listener.AcceptAsync(ct);
/// var stream = await session.AcceptStreamAsync(ct);
/// await foreach (var msg in stream.Input.ReadAllAsync(ct)) { using (msg) { /* ... */ } }
/// </code>
/// </example>
/// <remarks>
/// A client whose handshake fails (bad frames, timeout, memory that does not map) or that it does not accept (another
/// user, see <see cref="ShmipcServerOptions.AllowedClientUserIds"/>; files that are not the client's own) is disconnected
/// and reported on <see cref="HandshakeFailures"/>; the listener keeps accepting. The socket file gets
/// <see cref="ShmipcServerOptions.SocketFileMode"/> (owner only by default). Disposing the listener closes every session it
/// accepted and removes its socket file, unless the path names another socket by then (another server bound it).
/// </remarks>
public sealed class ShmipcListener : IAsyncDisposable
{
    private readonly SocketFd _socket;
    private readonly ShmipcServerOptions _options;
    private readonly ListenerHandler _handler;
    private readonly Channel<ShmipcSession> _sessions = Channel.CreateUnbounded<ShmipcSession>();
    private readonly Channel<ShmipcException> _failures = Channel.CreateBounded<ShmipcException>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Channel<ShmipcException> _sessionFailures = Channel.CreateBounded<ShmipcException>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly ConcurrentDictionary<Session, byte> _live = new();
    private readonly ServerHotRestart _hotRestart = new();
    private readonly string? _path;
    private int _disposed;

    private ShmipcListener(SocketFd socket, ShmipcServerOptions options, string? path)
    {
        _socket = socket;
        _options = options;
        _path = path;
        _handler = new ListenerHandler(socket, OnAccepted, e => _sessions.Writer.TryComplete(e));
        ShmipcReactor.Shared.Register(_handler);
    }

    /// <summary>The socket path (Unix) or null (TCP).</summary>
    public string? SocketPath => _path;

    /// <summary>The bound TCP address (useful with port 0), or null for a Unix socket.</summary>
    public IPEndPoint? LocalEndPoint => _socket.IsUnix ? null : _socket.LocalEndPoint;

    /// <summary>Sessions whose handshake succeeded, in order.</summary>
    public ChannelReader<ShmipcSession> Sessions => _sessions.Reader;

    /// <summary>Why recent handshakes failed (the latest 64); for logging.</summary>
    public ChannelReader<ShmipcException> HandshakeFailures => _failures.Reader;

    /// <summary>
    /// Why sessions accepted here ended, for every end other than a local close (the latest 64): the client hung up
    /// (<see cref="ShmipcErrorCode.PeerClosed"/>), broke the protocol (for example a frame above
    /// <see cref="ShmipcOptions.MaxFrameLength"/>), corrupted shared memory, or a write timed out. Each message names the
    /// session; <see cref="Exception.InnerException"/> is the exception its <see cref="ShmipcSession.Completion"/>
    /// faulted with. Each end is also logged (warning) when <see cref="ShmipcOptions.LoggerFactory"/> is set.
    /// </summary>
    public ChannelReader<ShmipcException> SessionFailures => _sessionFailures.Reader;

    /// <summary>
    /// Binds a Unix domain socket (a stale socket file at the path is replaced; a live one only with
    /// <see cref="ShmipcServerOptions.TakeOverSocketPath"/>) and starts accepting.
    /// </summary>
    /// <param name="socketPath">Where to listen.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="ShmipcException">Invalid options, or the socket cannot be bound.</exception>
    public static ShmipcListener Bind(string socketPath, ShmipcServerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        options ??= new ShmipcServerOptions();
        options.Validate();
        var socket = options.TakeOverSocketPath
            ? SocketFd.ListenUnixTakeOver(socketPath, options.Backlog, options.SocketFileMode)
            : SocketFd.ListenUnix(socketPath, options.Backlog, options.SocketFileMode);
        return new ShmipcListener(socket, options, socketPath);
    }

    /// <summary>Binds a TCP address (clients must use file mode) and starts accepting.</summary>
    /// <param name="endPoint">Where to listen; port 0 picks a free port (see <see cref="LocalEndPoint"/>).</param>
    /// <param name="options">Settings; null for the defaults.</param>
    public static ShmipcListener BindTcp(IPEndPoint endPoint, ShmipcServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new ShmipcServerOptions();
        options.Validate();
        var socket = SocketFd.ListenTcp(endPoint, options.Backlog);
        return new ShmipcListener(socket, options, null);
    }

    /// <summary>Waits for the next session whose handshake succeeded.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="ChannelClosedException">The listener was disposed.</exception>
    public ValueTask<ShmipcSession> AcceptAsync(CancellationToken cancellationToken = default) =>
        Channels.LosslessRead.ReadAsync(_sessions.Reader, cancellationToken);

    /// <summary>
    /// The old server's part of a hot restart (shmipc-go's <c>Listener.HotRestart</c>): sends HotRestart(<paramref name="epoch"/>)
    /// to every live session and completes when each has acknowledged, that is when every client pool has connected
    /// a new session (to whichever server now owns the socket path) for each of its slots. Streams already handed out
    /// keep working here; new streams go to the new server. Then wait until the sessions have no active streams (or
    /// the clients closed them) and dispose the listener.
    /// </summary>
    /// <param name="epoch">The restart's number, chosen by the application; clients name their new shared memory after it.</param>
    /// <param name="cancellationToken">Cancels the wait (the normal state is restored).</param>
    /// <remarks>
    /// Start the new server first, bound with <see cref="ShmipcServerOptions.TakeOverSocketPath"/>: the clients dial
    /// the path again at once. A session that ends meanwhile owes no acknowledgement. Plain client sessions
    /// (<see cref="ShmipcClient"/>) ignore the request, as shmipc-go's do, so a server with such clients times out.
    /// </remarks>
    /// <exception cref="ShmipcException">
    /// <see cref="ShmipcErrorCode.Timeout"/>: not every session acknowledged within
    /// <see cref="ShmipcServerOptions.HotRestartTimeout"/>; the listener is back to its normal state.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another hot restart is in progress.</exception>
    /// <exception cref="ObjectDisposedException">The listener was disposed.</exception>
    public Task HotRestartAsync(ulong epoch, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _hotRestart.RunAsync(_live.Keys, epoch, _options.HotRestartTimeout, cancellationToken);
    }

    /// <summary>
    /// Stops accepting, closes every session accepted here, removes the socket file if it is still the one this listener
    /// bound (a socket another server has bound at the path since is left alone).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await ShmipcReactor.Shared.UnregisterAsync(_handler).ConfigureAwait(false);
        // SocketFd removes the socket file only if the path still names the socket it bound (same inode): after a
        // restart or a blue-green switch the path may belong to a newer server, whose clients must keep finding it.
        _socket.Dispose();

        _sessions.Writer.TryComplete();
        _failures.Writer.TryComplete();
        foreach (var session in _live.Keys)
        {
            await session.Public.DisposeAsync().ConfigureAwait(false);
        }

        _sessionFailures.Writer.TryComplete();

        while (_sessions.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Each handshake blocks (bounded by HandshakeTimeout) on a thread of its own: on the thread pool, a burst of
    // connections or a busy process could delay a handshake past its own timeout.
    private void OnAccepted(SocketFd connection) =>
        _ = Task.Factory.StartNew(() =>
        {
            try
            {
                var session = ServerSessionFactory.Accept(connection, _options, OnSessionEnded);
                session.SetHotRestartHandler(_hotRestart.OnAck);
                _live[session] = 0;
                if (Volatile.Read(ref _disposed) != 0 || !_sessions.Writer.TryWrite(session.Public))
                {
                    session.Close(null);
                }
            }
            catch (ShmipcException e)
            {
                Diagnostics.ShmipcLog.HandshakeFailed(Diagnostics.ShmipcLog.For(_options), e.Message, e);
                _failures.Writer.TryWrite(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void OnSessionEnded(Session session)
    {
        _live.TryRemove(session, out _);
        _hotRestart.OnSessionEnded(session);
        if (session.CloseReason is { } reason)
        {
            var code = reason is ShmipcException e ? e.ErrorCode : ShmipcErrorCode.Unknown;
            _sessionFailures.Writer.TryWrite(new ShmipcException(code, $"session {session.Name} ended: {reason.Message}", reason));
        }
    }
}
