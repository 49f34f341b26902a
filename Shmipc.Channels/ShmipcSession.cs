using System.Threading.Channels;
using Shmipc.Channels.Channels;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels;

/// <summary>
/// One shmipc connection: a socket for the handshake and wake-ups, an IO queue pair and a buffer region in shared
/// memory. Clients open streams; servers accept them.
/// </summary>
/// <remarks>
/// A session closes when either side disposes it, the peer disappears, or the peer breaks the protocol (a malformed
/// frame, an out-of-range offset in shared memory). Every stream then fails with a <see cref="ShmipcException"/>
/// carrying the reason, and <see cref="Completion"/> faults with it. Other sessions are not affected.
/// </remarks>
public sealed class ShmipcSession : IAsyncDisposable
{
    private readonly Session _session;
    private readonly ChannelReader<ShmipcStream> _incoming;

    private ShmipcSession(Session session)
    {
        _session = session;
        _incoming = new MappedChannelReader<SessionStream, ShmipcStream>(session.IncomingStreams, ShmipcStream.Of);
    }

    /// <summary>Whether this is the client side (it created the shared memory).</summary>
    public bool IsClient => _session.IsClient;

    /// <summary>The session's name: the queue path or name the client announced.</summary>
    public string Name => _session.Name;

    /// <summary>The negotiated protocol version (2 or 3).</summary>
    public int ProtocolVersion => _session.Version;

    /// <summary>Whether the session is closed.</summary>
    public bool IsClosed => _session.IsClosed;

    /// <summary>Completes when the session closes: successfully after a local close, faulted with the reason otherwise.</summary>
    public Task Completion => _session.Completion;

    /// <summary>Streams the peer opened (server side), in the order their first message arrived.</summary>
    public ChannelReader<ShmipcStream> IncomingStreams => _incoming;

    /// <summary>Open streams.</summary>
    public int ActiveStreamCount => _session.ActiveStreamCount;

    /// <summary>Messages that went over the socket because shared memory was exhausted (shmipc <c>FallbackWriteCount</c>).</summary>
    public long FallbackWriteCount => _session.Metrics.FallbackWrites;

    /// <summary>Fallback messages received over the socket (shmipc <c>FallbackReadCount</c>).</summary>
    public long FallbackReadCount => _session.Metrics.FallbackReads;

    /// <summary>Wake-up frames sent to the peer (shmipc <c>SendSyncEventCount</c>).</summary>
    public long SyncEventsSent => _session.Metrics.SyncEventsSent;

    /// <summary>Wake-up frames received from the peer (shmipc <c>ReceiveSyncEventCount</c>).</summary>
    public long SyncEventsReceived => _session.Metrics.SyncEventsReceived;

    /// <summary>
    /// Bytes received and waiting in the streams' <see cref="ShmipcStream.Input"/>, not yet taken by a reader (counted
    /// against <see cref="ShmipcOptions.ReceiveBudgetBytes"/>).
    /// </summary>
    public long ReceiveBufferedBytes => _session.Budget.BufferedBytes;

    /// <summary>Messages waiting in the streams' inputs (counted against <see cref="ShmipcOptions.ReceiveBudgetMessages"/>).</summary>
    public long ReceiveBufferedMessages => _session.Budget.BufferedMessages;

    /// <summary>How many times the session stopped reading because its readers left the receive budget full.</summary>
    public long ReceivePauseCount => _session.Budget.Pauses;

    /// <summary>
    /// A snapshot of the buffer region (slices total, free, in use) and of this session's leases in this process
    /// (held, and leaked: collected without <see cref="ShmLease.Dispose"/>, their slices reclaimed).
    /// </summary>
    public ShmipcSessionStatistics Statistics => _session.GetStatistics();

    internal Session Engine => _session;

    /// <summary>The one facade of <paramref name="session"/>.</summary>
    internal static ShmipcSession Of(Session session) => session.GetFacade(static s => new ShmipcSession(s));

    /// <summary>
    /// Opens a stream. Nothing goes on the wire until its first message (as in shmipc); the server sees the stream then.
    /// </summary>
    /// <exception cref="ShmipcException">The session is closed, or every stream id is in use.</exception>
    /// <exception cref="InvalidOperationException">Called on a server session: only clients open streams in shmipc.</exception>
    public ShmipcStream OpenStream() => ShmipcStream.Of(_session.OpenStream());

    /// <summary>Waits for the next stream the peer opens (server side).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="ChannelClosedException">The session closed; the inner exception says why.</exception>
    public ValueTask<ShmipcStream> AcceptStreamAsync(CancellationToken cancellationToken = default) =>
        _incoming.ReadAsync(cancellationToken);

    /// <summary>Closes the session: streams fail, shared memory is released, the peer sees the connection close.</summary>
    /// <remarks>
    /// Never throws and never waits for a writer: the socket is shut down first, so a write blocked behind a peer that
    /// stopped reading fails at once (with <see cref="ShmipcErrorCode.SessionClosed"/>). The peer's streams get their
    /// close notices when that needs no wait; otherwise the peer sees the connection end.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        _session.Close(null);
        try
        {
            await _session.Completion.ConfigureAwait(false);
        }
        catch (ShmipcException)
        {
            // The session had already failed; Completion carries that reason for whoever observes it.
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"shmipc {(IsClient ? "client" : "server")} session {Name} (v{ProtocolVersion})";
}
