using Shmipc.Channels.Interop;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels;

/// <summary>
/// A pool of client sessions to one server (the role of shmipc-go's <c>SessionManager</c>): hands out streams
/// round-robin over its sessions, takes them back for reuse, rebuilds a session that died and follows the server
/// through a hot restart.
/// </summary>
/// <example>
/// <code>
/// await using var pool = await ShmipcClientPool.ConnectAsync("/tmp/app.sock", new() { SessionCount = 4 }, ct);
/// var stream = await pool.GetStreamAsync(ct);
/// await stream.WriteAsync(request, ct);
/// using (var reply = await stream.Input.ReadAsync(ct)) { Handle(reply.Data); }
/// pool.Return(stream);                          // reused by a later GetStreamAsync; nothing goes on the wire
/// </code>
/// </example>
/// <remarks>
/// <para>When a session dies (the server exited or was killed, the connection broke, the server broke the protocol),
/// its streams fail with the cause and a watcher rebuilds the session in the background: first after 100 ms, then
/// with the wait doubling up to <see cref="ShmipcClientPoolOptions.RebuildInterval"/>. Meanwhile
/// <see cref="GetStreamAsync"/> uses the other sessions and fails at once, with a <see cref="ShmipcException"/>
/// naming the cause, only while none is alive.</para>
/// <para>Hot restart: when the server sends HotRestart(epoch) (see <see cref="ShmipcListener.HotRestartAsync"/>), each
/// session is dialed again at the same path (where the new server now listens) with shared memory named after the
/// epoch, and new streams go to the new sessions while streams already handed out finish on the old server. Once
/// every session has moved the pool acknowledges on the old sessions; the old server then lets them drain.</para>
/// <para>Counters on the <c>Shmipc</c> meter: <c>shmipc.pool.rebuilds</c>, <c>shmipc.pool.hot_restarts</c>,
/// <c>shmipc.pool.sessions</c>.</para>
/// </remarks>
public sealed class ShmipcClientPool : IAsyncDisposable
{
    private readonly ClientPool _pool;

    private ShmipcClientPool(ClientPool pool) => _pool = pool;

    /// <summary>The server's socket path.</summary>
    public string SocketPath => _pool.Address;

    /// <summary>The configured number of sessions (<see cref="ShmipcClientPoolOptions.SessionCount"/>).</summary>
    public int SessionCount => _pool.SlotCount;

    /// <summary>Sessions that new streams can use now (the rest are being rebuilt).</summary>
    public int LiveSessionCount => _pool.LiveSessionCount;

    /// <summary>Sessions rebuilt after they died, since the pool was created.</summary>
    public long RebuildCount => _pool.Rebuilds;

    /// <summary>Hot restarts completed (every session moved to the new server and acknowledged).</summary>
    public long HotRestartCount => _pool.HotRestarts;

    /// <summary>The epoch of the latest hot restart the server announced; 0 before the first.</summary>
    public ulong HotRestartEpoch => _pool.Epoch;

    internal ClientPool Engine => _pool;

    /// <summary>Connects <see cref="ShmipcClientPoolOptions.SessionCount"/> sessions to a server on a Unix domain socket.</summary>
    /// <param name="socketPath">The server's socket path.</param>
    /// <param name="options">Settings; null for shmipc-go's defaults (one session).</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <exception cref="ShmipcException">Invalid options, or a session could not be connected (then none is kept).</exception>
    public static async Task<ShmipcClientPool> ConnectAsync(string socketPath, ShmipcClientPoolOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        options ??= new ShmipcClientPoolOptions();
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        var pool = await ClientPool.CreateAsync(timeout => SocketFd.ConnectUnix(socketPath, timeout), socketPath, options, cancellationToken).ConfigureAwait(false);
        return new ShmipcClientPool(pool);
    }

    /// <summary>
    /// A stream of one of the live sessions: one given back with <see cref="Return"/> if there is one (messages it had
    /// not read were recycled), else a new one. Give it back with <see cref="Return"/> when done.
    /// </summary>
    /// <param name="cancellationToken">Checked before the stream is taken.</param>
    /// <exception cref="ShmipcException">
    /// <see cref="ShmipcErrorCode.SessionClosed"/>: no session is alive now (every one is being rebuilt); the inner
    /// exception is the latest cause.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    public ValueTask<ShmipcStream> GetStreamAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(ShmipcStream.Of(_pool.GetStream()));
    }

    /// <summary>
    /// Gives a stream back for reuse, with the wire behaviour of shmipc-go's stream pool: it is not closed towards the
    /// server; messages it had not read are recycled. A stream that either side closed, that is in fallback, whose
    /// session is no longer the pool's (rebuilt or hot-restarted), or that finds the pool full is disposed instead.
    /// </summary>
    /// <param name="stream">A stream from <see cref="GetStreamAsync"/>; do not use it afterwards.</param>
    public void Return(ShmipcStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _pool.Return(stream.Engine);
    }

    /// <summary>Stops the watchers and closes every session of the pool (their streams fail) and the idle streams.</summary>
    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    /// <inheritdoc />
    public override string ToString() => $"shmipc client pool to {SocketPath} ({LiveSessionCount} of {SessionCount} sessions live)";
}
