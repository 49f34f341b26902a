using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Shmipc.Channels.Diagnostics;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Reactor;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The server's engine: the listening socket on the reactor, one handshake per accepted connection, the live sessions,
/// the handshake and session failures, the old server's hot restart and the socket file's removal. The public
/// listener is a facade over it.
/// </summary>
// Design:
// - Accepts run on the reactor thread (ListenerHandler); each handshake blocks (bounded by HandshakeTimeout) on a thread
//   of its own, so a burst of connections or a busy thread pool cannot delay a handshake past its own timeout.
// - _live holds the sessions that have not ended. A session is started inside the handshake step and may end (the
//   client hung up at once) before Admit adds it; its end callback (OnSessionEnded) then removed nothing. So Admit
//   re-checks IsClosed after the add: Session.Close sets IsClosed before the end callback can run, so either the
//   callback sees the entry and removes it, or Admit sees the closed session and removes it itself.
// - _disposed is set once; Admit checks it after publishing and closes what it could not hand out, and DisposeAsync
//   closes what is live or still unclaimed in the channel, so no session outlives the engine.
internal sealed class ListenerEngine : IAsyncDisposable
{
    private readonly SocketFd _socket;
    private readonly ShmipcServerOptions _options;
    private readonly ListenerHandler _handler;
    private readonly Channel<Session> _sessions = Channel.CreateUnbounded<Session>();
    private readonly Channel<ShmipcException> _failures = Channel.CreateBounded<ShmipcException>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Channel<ShmipcException> _sessionFailures = Channel.CreateBounded<ShmipcException>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly ConcurrentDictionary<Session, byte> _live = new();
    private readonly ServerHotRestart _hotRestart = new();
    private int _disposed;

    private ListenerEngine(SocketFd socket, ShmipcServerOptions options, string? path)
    {
        _socket = socket;
        _options = options;
        SocketPath = path;
        _handler = new ListenerHandler(socket, OnAccepted, e => _sessions.Writer.TryComplete(e));
        ShmipcReactor.Shared.Register(_handler);
    }

    /// <summary>The socket path (Unix) or null (TCP).</summary>
    public string? SocketPath { get; }

    /// <summary>The bound TCP address, or null for a Unix socket.</summary>
    public IPEndPoint? LocalEndPoint => _socket.IsUnix ? null : _socket.LocalEndPoint;

    /// <summary>Sessions whose handshake succeeded, in order.</summary>
    public ChannelReader<Session> Sessions => _sessions.Reader;

    /// <summary>Why recent handshakes failed (the latest 64).</summary>
    public ChannelReader<ShmipcException> HandshakeFailures => _failures.Reader;

    /// <summary>Why sessions accepted here ended, for every end other than a local close (the latest 64).</summary>
    public ChannelReader<ShmipcException> SessionFailures => _sessionFailures.Reader;

    /// <summary>Sessions accepted here that have not ended (tests).</summary>
    public int LiveCount => _live.Count;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Binds a Unix domain socket (a stale socket file at the path is replaced; a live one only with
    /// <see cref="ShmipcServerOptions.TakeOverSocketPath"/>) and starts accepting.
    /// </summary>
    /// <param name="socketPath">Where to listen.</param>
    /// <param name="options">Validated settings.</param>
    public static ListenerEngine BindUnix(string socketPath, ShmipcServerOptions options)
    {
        var socket = options.TakeOverSocketPath
            ? SocketFd.ListenUnixTakeOver(socketPath, options.Backlog, options.SocketFileMode)
            : SocketFd.ListenUnix(socketPath, options.Backlog, options.SocketFileMode);
        return new ListenerEngine(socket, options, socketPath);
    }

    /// <summary>Binds a TCP address (clients must use file mode) and starts accepting.</summary>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="options">Validated settings.</param>
    public static ListenerEngine BindTcp(IPEndPoint endPoint, ShmipcServerOptions options) =>
        new(SocketFd.ListenTcp(endPoint, options.Backlog), options, null);

    /// <summary>Runs one hot restart over the live sessions (see <see cref="ServerHotRestart"/>).</summary>
    public Task HotRestartAsync(ulong epoch, CancellationToken cancellationToken) =>
        _hotRestart.RunAsync(_live.Keys, epoch, _options.HotRestartTimeout, cancellationToken);

    /// <summary>
    /// A session whose handshake succeeded joins the live set and is published, or closed if the engine is disposed.
    /// The accept path calls it right after the handshake; it is separate so that tests can hand it a session that
    /// has already ended.
    /// </summary>
    public void Admit(Session session)
    {
        _live[session] = 0;
        if (session.IsClosed)
        {
            // Ended before it was added (see Design): its end callback found nothing to remove.
            _live.TryRemove(session, out _);
        }

        if (IsDisposed || !_sessions.Writer.TryWrite(session))
        {
            session.Close(null);
        }
    }

    /// <summary>
    /// Stops accepting, closes every session accepted here, removes the socket file if it is still the one this
    /// engine bound.
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
            await CloseAsync(session).ConfigureAwait(false);
        }

        _sessionFailures.Writer.TryComplete();

        while (_sessions.Reader.TryRead(out var unclaimed))
        {
            await CloseAsync(unclaimed).ConfigureAwait(false);
        }
    }

    private static async ValueTask CloseAsync(Session session)
    {
        session.Close(null);
        try
        {
            await session.Completion.ConfigureAwait(false);
        }
        catch (ShmipcException)
        {
            // The session had already failed; its Completion carries that reason for whoever observes it.
        }
    }

    private void OnAccepted(SocketFd connection) =>
        _ = Task.Factory.StartNew(
            static s =>
            {
                var (self, connection) = ((ListenerEngine, SocketFd))s!;
                self.Handshake(connection);
            },
            (this, connection),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private void Handshake(SocketFd connection)
    {
        Session session;
        try
        {
            session = ServerSessionFactory.Accept(connection, _options, OnSessionEnded, _hotRestart.OnAck);
        }
        catch (ShmipcException e)
        {
            ShmipcLog.HandshakeFailed(ShmipcLog.For(_options), e.Message, e);
            _failures.Writer.TryWrite(e);
            return;
        }

        Admit(session);
    }

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
