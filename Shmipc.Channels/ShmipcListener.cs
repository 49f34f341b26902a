using System.Net;
using System.Threading.Channels;
using Shmipc.Channels.Channels;
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
    // Everything stateful (accept, handshakes, live sessions, hot restart, the socket file) is the engine's (Sessions/).
    private readonly ListenerEngine _engine;
    private readonly ChannelReader<ShmipcSession> _sessions;

    private ShmipcListener(ListenerEngine engine)
    {
        _engine = engine;
        _sessions = new MappedChannelReader<Session, ShmipcSession>(engine.Sessions, ShmipcSession.Of);
    }

    /// <summary>The socket path (Unix) or null (TCP).</summary>
    public string? SocketPath => _engine.SocketPath;

    /// <summary>The bound TCP address (useful with port 0), or null for a Unix socket.</summary>
    public IPEndPoint? LocalEndPoint => _engine.LocalEndPoint;

    /// <summary>Sessions whose handshake succeeded, in order.</summary>
    public ChannelReader<ShmipcSession> Sessions => _sessions;

    /// <summary>Why recent handshakes failed (the latest 64); for logging.</summary>
    public ChannelReader<ShmipcException> HandshakeFailures => _engine.HandshakeFailures;

    /// <summary>
    /// Why sessions accepted here ended, for every end other than a local close (the latest 64): the client hung up
    /// (<see cref="ShmipcErrorCode.PeerClosed"/>), broke the protocol (for example a frame above
    /// <see cref="ShmipcOptions.MaxFrameLength"/>), corrupted shared memory, or a write timed out. Each message names the
    /// session; <see cref="Exception.InnerException"/> is the exception its <see cref="ShmipcSession.Completion"/>
    /// faulted with. Each end is also logged (warning) when <see cref="ShmipcOptions.LoggerFactory"/> is set.
    /// </summary>
    public ChannelReader<ShmipcException> SessionFailures => _engine.SessionFailures;

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
        return new ShmipcListener(ListenerEngine.BindUnix(socketPath, options));
    }

    /// <summary>Binds a TCP address (clients must use file mode) and starts accepting.</summary>
    /// <param name="endPoint">Where to listen; port 0 picks a free port (see <see cref="LocalEndPoint"/>).</param>
    /// <param name="options">Settings; null for the defaults.</param>
    public static ShmipcListener BindTcp(IPEndPoint endPoint, ShmipcServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new ShmipcServerOptions();
        options.Validate();
        return new ShmipcListener(ListenerEngine.BindTcp(endPoint, options));
    }

    /// <summary>Waits for the next session whose handshake succeeded.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="ChannelClosedException">The listener was disposed.</exception>
    public ValueTask<ShmipcSession> AcceptAsync(CancellationToken cancellationToken = default) =>
        _sessions.ReadAsync(cancellationToken);

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
        ObjectDisposedException.ThrowIf(_engine.IsDisposed, this);
        return _engine.HotRestartAsync(epoch, cancellationToken);
    }

    /// <summary>
    /// Stops accepting, closes every session accepted here, removes the socket file if it is still the one this listener
    /// bound (a socket another server has bound at the path since is left alone).
    /// </summary>
    public ValueTask DisposeAsync() => _engine.DisposeAsync();

    /// <summary>The engine (tests look at its live sessions).</summary>
    internal ListenerEngine Engine => _engine;
}
