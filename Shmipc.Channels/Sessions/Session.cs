using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Shmipc.Channels.Diagnostics;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Reactor;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The session engine: one connection, its IO queue pair, the buffer region, the stream table. The public session
/// and stream types are facades over it and its streams; the engine does not know them.
/// </summary>
// Design:
// - Receive side (Session.Receive.cs) runs on the reactor thread only: socket frames, the receive queue, the parser.
// - Send side (Session.Send.cs) runs on any thread: _sendLock serialises puts into the send queue (the queue is
//   single-producer), _socketLock serialises socket writes (frames must never interleave, docs/PROTOCOL.md §1.1).
// - _state goes Open → Closed once (Interlocked). Close marks the state under _sendLock, so no put races an unmap;
//   the reactor stops calling us before the queue mapping is released (UnregisterAsync / OnRemoved).
// - The buffer region is reference counted (SharedBuffer): leases keep it mapped after the session is gone.
// - Close never waits for _socketLock: a writer may hold it, stuck in a send to a peer that stopped reading. Close
//   notices only try-enter it, then the socket is shut down before anything else is torn down; the stuck send wakes
//   (EPIPE) and WriteSocket reports the session's close instead of the socket's symptom (or an ObjectDisposedException
//   once ReleaseResources disposed the handle; SafeHandle ref counting keeps the fd valid during a call).
// - Receive budget (ReceiveBudget): deliveries count on the reactor, takes uncount on reader threads; while it is full
//   the reactor neither reads the socket (EPOLLIN off) nor drains the queue, and a reader that frees it wakes the reactor.
internal sealed partial class Session : IReactorHandler, IDisposable
{
    private const int Open = 0;
    private const int Closed = 1;

    private readonly ConcurrentDictionary<uint, SessionStream> _streams = new();
    private readonly Channel<SessionStream> _incoming;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SharedRegion _queueRegion;
    private readonly IoQueue _sendQueue;
    private readonly IoQueue _recvQueue;
    private readonly Action<Session>? _onClosed;
    private int _state;
    private uint _lastStreamId;
    private long _held;
    private volatile bool _peerOrdersFallback;
    private int _announced;
    private Exception? _closeReason;
    private volatile bool _closingLocally;
    private FacadeSlot _facade;

    public Session(
        bool isClient,
        string name,
        SocketFd socket,
        byte version,
        SharedBuffer buffer,
        SharedRegion queueRegion,
        IoQueuePair queues,
        ShmipcOptions options,
        Action<Session>? onClosed)
    {
        IsClient = isClient;
        Name = name;
        Socket = socket;
        Version = version;
        Buffer = buffer;
        _queueRegion = queueRegion;
        _sendQueue = queues.SendQueue;
        _recvQueue = queues.ReceiveQueue;
        Options = options;
        _onClosed = onClosed;
        _lastStreamId = isClient ? 1u : 2u;
        _incoming = Channel.CreateUnbounded<SessionStream>(new UnboundedChannelOptions { SingleWriter = true });
        _parser = new FrameParser(options.MaxFrameLength);
        _receiveBuffer = new ReceiveBuffer();
        HeaderOnlyFrame.Write(_pollingFrame, version, EventType.Polling);
        HeaderOnlyFrame.Write(_announceFrame, (byte)(version | ProtocolConstants.OrderedFallbackVersionBit), EventType.Polling);
        SpinTicks = options.PollingMode switch
        {
            PollingMode.Latency => Stopwatch.Frequency / 500,      // 2 ms
            PollingMode.LowCpu => 0,
            _ => Stopwatch.Frequency / 20_000,                     // 50 µs
        };
        Logger = ShmipcLog.For(options);
        Metrics = new SessionMetrics(name, isClient, options.MeterFactory);
        Budget = new ReceiveBudget(options.ReceiveBudgetBytes, options.ReceiveBudgetMessages, ShmipcReactor.Shared.Wake);
    }

    public bool IsClient { get; }

    public string Name { get; }

    public SocketFd Socket { get; }

    public byte Version { get; }

    public SharedBuffer Buffer { get; }

    public ShmipcOptions Options { get; }

    public SessionMetrics Metrics { get; }

    /// <summary>What the readers hold and have not taken; when full the session stops reading (see ReceiveBudget).</summary>
    public ReceiveBudget Budget { get; }

    /// <summary>Where this session logs (a no-op logger unless the options carry a factory).</summary>
    public ILogger Logger { get; }

    /// <summary>The public object wrapping this session, created by <paramref name="create"/> on first use (one per session).</summary>
    public T GetFacade<T>(Func<Session, T> create)
        where T : class => _facade.GetOrCreate(this, create);

    public bool IsClosed => Volatile.Read(ref _state) != Open;

    /// <summary>
    /// An orderly local close has begun: from now on the peer's stream-close notices are not applied (its answers to
    /// our own notices could otherwise end a local reader cleanly before Close fails it with SessionClosed).
    /// </summary>
    public bool IsClosingLocally => _closingLocally;

    public Exception? CloseReason => Volatile.Read(ref _closeReason);

    public Task Completion => _completion.Task;

    public ChannelReader<SessionStream> IncomingStreams => _incoming.Reader;

    public int ActiveStreamCount => _streams.Count;

    /// <summary>
    /// Whether the peer announced that it delivers a stream's fallback frames and order-tagged queue elements in write
    /// order (a Shmipc.NET peer): streams then return from the socket to shared memory as soon as slices are free.
    /// </summary>
    public bool PeerOrdersFallback => _peerOrdersFallback;

    /// <summary>Counts leases (and the slices they hold) that this session's users hold in this process.</summary>
    /// <remarks>One Interlocked add on a packed long: leases in the upper 32 bits, slices in the lower.</remarks>
    public void CountHeld(long leases, long slices) => Interlocked.Add(ref _held, (leases << 32) + slices);

    /// <summary>A snapshot of shared memory and leases.</summary>
    public ShmipcSessionStatistics GetStatistics()
    {
        var manager = Buffer.Manager;
        long free = 0;
        for (var i = 0; i < manager.ListCount; i++)
        {
            free += manager.GetList(i).FreeCount;
        }

        var (leasesHeld, slicesHeld) = Held;
        return new ShmipcSessionStatistics(
            manager.TotalSliceCount, free, leasesHeld, slicesHeld, Metrics.LeasesLeaked, Metrics.SlicesReclaimed, Metrics.FallbackEntries);
    }

    /// <summary>
    /// The leases this session's users (or the session itself, for unread messages) hold, and their slices: what
    /// <see cref="CountHeld"/> counted. Readable after the region was unmapped (tests' accounting).
    /// </summary>
    public (long Leases, long Slices) Held
    {
        get
        {
            var held = Volatile.Read(ref _held);
            var slices = (long)(int)(uint)held;
            return ((held - slices) >> 32, slices);
        }
    }

    /// <summary>Finalizer thread: a lease of this session was collected without Dispose (its slices are back).</summary>
    public void OnLeaseLeaked(LeaseKind kind, uint streamId, int length, int slices, System.Diagnostics.StackTrace? origin)
    {
        Metrics.LeaseLeaked(slices);
        if (Logger.IsEnabled(LogLevel.Warning))
        {
            var where = origin is null
                ? "Set ShmipcOptions.TrackLeaseOrigins to record where each lease is rented or read."
                : (kind == LeaseKind.Received ? "It was read at:" : "It was rented at:") + Environment.NewLine + origin;
            ShmipcLog.LeaseLeaked(Logger, Name, kind == LeaseKind.Received ? "received" : "rented", streamId, length, slices, where);
        }
    }

    /// <summary>Starts serving the session on the reactor.</summary>
    public void Start()
    {
        ShmipcLog.SessionOpened(Logger, Name, IsClient ? "client" : "server", Version);
        Metrics.Attach(ReadGauges);

        // Before the first delivery: the lease pool may keep as many cores as this session's inputs may hold.
        var share = Options.ReceiveBudgetMessages;
        LeaseCorePool.Shared.AddSession(share);
        Volatile.Write(ref _poolShare, share);
        ShmipcReactor.Shared.Register(this);
    }

    /// <summary>Opens a stream (client side; nothing goes on the wire until the first message, as in shmipc).</summary>
    public SessionStream OpenStream()
    {
        ThrowIfClosed();
        if (!IsClient)
        {
            throw new InvalidOperationException("Only the client side opens streams: shmipc clients drop data for stream ids they did not open.");
        }

        for (var attempt = 0; attempt < 16; attempt++)
        {
            var id = Interlocked.Increment(ref _lastStreamId);
            var stream = new SessionStream(this, id);
            if (_streams.TryAdd(id, stream))
            {
                if (IsClosed)
                {
                    stream.Fail(CreateClosedException());
                    _streams.TryRemove(id, out _);
                    ThrowIfClosed();
                }

                return stream;
            }

            stream.Discard();
        }

        throw new ShmipcException(ShmipcErrorCode.StreamsExhausted, "every stream id is in use (ErrStreamsExhausted).");
    }

    /// <summary>Forgets a stream that was released (SessionStream.Settle); a newer stream under its id stays.</summary>
    public void Forget(SessionStream stream) => _streams.TryRemove(new KeyValuePair<uint, SessionStream>(stream.Id, stream));

    /// <summary>Closes the session: streams fail with <paramref name="reason"/>, memory is released.</summary>
    /// <param name="reason">Why; null for a local, orderly close.</param>
    /// <remarks>
    /// Never blocks on the socket: an orderly close sends the streams' close notices only as far as that needs no wait
    /// (see <see cref="SendCloseNoticesWithoutWaiting"/>), and the socket is shut down before anything else is torn
    /// down, so a writer stuck in a send wakes at once (it then fails with the session's close reason).
    /// </remarks>
    public void Close(Exception? reason)
    {
        if (reason is null && !IsClosed)
        {
            // An orderly local close ends the peer's streams normally, so its readers see the end of each stream
            // rather than a broken connection; the peer sees EOF right after anyway.
            _closingLocally = true;
            SendCloseNoticesWithoutWaiting();
        }

        lock (_sendLock)
        {
            if (Interlocked.Exchange(ref _state, Closed) != Open)
            {
                return;
            }

            Volatile.Write(ref _closeReason, reason);
        }

        // First wake the peer and any writer blocked in a send on this socket: both see the connection end now.
        try
        {
            Socket.Shutdown();
        }
        catch (ShmipcException)
        {
            // Nothing a close can do about it; the socket is closed with the session's resources below.
        }

        var streamError = reason ?? new ShmipcException(ShmipcErrorCode.SessionClosed, $"session {Name} was closed locally.");
        foreach (var (_, stream) in _streams)
        {
            stream.Fail(streamError);
        }

        _streams.Clear();
        _incoming.Writer.TryComplete(reason);
        // Waiting writers wake up, see the closed session and throw its reason.
        ReleaseWaitersIfRoom();

        // On the reactor thread the removal is immediate; elsewhere it completes once the reactor will not call us again.
        var removed = ShmipcReactor.Shared.UnregisterAsync(this);
        if (ShmipcReactor.Shared.IsReactorThread && _inReactorCallback)
        {
            // Re-entered from our own Poll/OnReady (a reader continuation run inline on the reactor closed the
            // session): the callback still walks the queue and receive buffer, so unmap when it unwinds.
            _releaseDeferred = true;
        }
        else
        {
            _ = removed.ContinueWith(
                static (_, s) => ((Session)s!).ReleaseResources(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private int _released;

    // The lease pool capacity Start added for this session, kept so ReleaseResources takes back exactly that, once,
    // whatever happens to the (mutable) options meanwhile.
    private int _poolShare;

    private static long s_releaseOrder;
    private long _slicesQueuedAtRelease = -1;
    private long _releaseOrder;

    // Reactor thread only: true while Poll/OnReady runs; a Close re-entered from inside sets _releaseDeferred.
    private bool _inReactorCallback;
    private bool _releaseDeferred;

    /// <summary>Closes the session locally (see <see cref="Close"/>).</summary>
    public void Dispose() => Close(null);

    private void ReleaseResources()
    {
        // A reader draining the queue (TryDrainForReader) finishes its pass first; re-entrant on the reactor.
        using var receiving = _receiveLock.EnterScope();
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _receiveBuffer.Dispose();
        Socket.Dispose();
        lock (_sendLock)
        {
            // Neither queue moves on our side any more (closed: no put; receive lock held: no pop). What is left in
            // them is retired with the region (ClientSessionMemory): count it before the mapping goes. The order is
            // taken before the walk, so a walk ordered after the peer's began once the peer had stopped as well.
            Volatile.Write(ref _releaseOrder, Interlocked.Increment(ref s_releaseOrder));
            Volatile.Write(ref _slicesQueuedAtRelease, CountQueuedSlices());

            // Writers check IsClosed under this lock before they touch the send queue (see HasQueueRoom).
            _queueRegion.Dispose();
        }

        Buffer.Release();
        if (Interlocked.Exchange(ref _poolShare, 0) is var share and > 0)
        {
            // The reactor calls us no more, so no more received cores: drop what the pool kept for this session.
            LeaseCorePool.Shared.RemoveSession(share);
        }

        Metrics.Detach(CloseReason);
        _onClosed?.Invoke(this);
        if (CloseReason is { } reason)
        {
            ShmipcLog.SessionFaulted(Logger, Name, reason.Message, reason);
            _completion.TrySetException(reason);
        }
        else
        {
            ShmipcLog.SessionClosed(Logger, Name);
            _completion.TrySetResult();
        }
    }

    /// <summary>
    /// Slices in the data elements left in both IO queues when this session released its resources (messages sent
    /// that the receiver never took); -1 before the release, or when the queues could not be walked (a truncated or
    /// corrupt region). Such slices are not lost: they leave with the session's region (<see cref="ClientSessionMemory"/>).
    /// </summary>
    /// <remarks>
    /// Exact once both sides of a connection have released: after its release a session neither puts nor pops, so of
    /// the two counts the later one (<see cref="ReleaseOrder"/>) is final. Tests' accounting (SessionAccounting)
    /// adds it to <see cref="SharedBuffer.FreeSlicesAtUnmap"/>.
    /// </remarks>
    public long SlicesQueuedAtRelease => Volatile.Read(ref _slicesQueuedAtRelease);

    /// <summary>When this session released its resources, in process-wide order (0 before the release).</summary>
    public long ReleaseOrder => Volatile.Read(ref _releaseOrder);

    /// <summary>
    /// Release only: counts the slices of the data elements between head and tail of both queues, read-only. Bounded by
    /// the region's slice count (chains are validated as they are walked), so a hostile peer's queue cannot make a close
    /// walk more than that; -1 if it tries, or if the memory cannot be trusted.
    /// </summary>
    private long CountQueuedSlices()
    {
        if (Buffer.Region.WasTruncated || _queueRegion.WasTruncated)
        {
            return -1;
        }

        try
        {
            var limit = Buffer.Manager.TotalSliceCount;
            var sent = CountQueuedSlices(_sendQueue, limit);
            var received = sent < 0 ? -1 : CountQueuedSlices(_recvQueue, limit - sent);
            return received < 0 ? -1 : sent + received;
        }
        catch (ShmipcException)
        {
            return -1;
        }
    }

    private long CountQueuedSlices(IoQueue queue, long limit)
    {
        var head = queue.Head;
        var tail = queue.Tail;
        if (head < 0 || tail < head || tail - head > queue.Capacity)
        {
            return -1;
        }

        long slices = 0;
        for (var i = head; i < tail; i++)
        {
            var element = queue.PeekAt(i);
            if ((byte)(element.Status & StatusMask) != StateOpened)
            {
                continue;
            }

            foreach (var _ in Buffer.Manager.EnumerateChain(element.Offset))
            {
                if (++slices > limit)
                {
                    return -1;
                }
            }
        }

        return slices;
    }

    public ShmipcException CreateClosedException() =>
        new(ShmipcErrorCode.SessionClosed, $"session {Name} is closed" + (CloseReason is { } r ? $": {r.Message}" : "."), CloseReason);

    public void ThrowIfClosed()
    {
        if (IsClosed)
        {
            throw CreateClosedException();
        }
    }

    // ---- IReactorHandler -------------------------------------------------------------------------------------

    int IReactorHandler.Fd => Socket.Fd;

    // While the receive budget is full the socket is not read: only the peer's hang-up (RDHUP; HUP and ERR always) wakes us.
    uint IReactorHandler.Events => Budget.IsPaused ? EpollHandle.EPOLLRDHUP : EpollHandle.EPOLLIN | EpollHandle.EPOLLRDHUP;

    public long SpinTicks { get; }

    // Writers waiting for queue room, or a paused receive side that readers have freed (its resume must not be lost
    // if the reader's wake-up raced the reactor going to sleep).
    bool IReactorHandler.HasWaiters => Volatile.Read(ref _waiterCount) > 0 || Budget.IsResumable;

    void IReactorHandler.EnterSpin()
    {
        if (!IsClosed)
        {
            _recvQueue.MarkWorking();
        }
    }

    // Paused: the queue is not drained, so keep the working flag as it is (set, the peer sends no SyncEvents we would
    // not read anyway); Poll drains again after the resume and a later TryPark clears it.
    // Spinning readers: they hold the flag and drain the queue; the reactor parks and leaves it set (the last reader to
    // stop releases it, ReaderSpinEnded).
    bool IReactorHandler.TryPark() => IsClosed || Budget.IsPaused || ReadersSpinning || _recvQueue.MarkNotWorking();

    void IReactorHandler.OnFault(Exception error) =>
        Close(error as ShmipcException ?? new ShmipcException(ShmipcErrorCode.Unknown, $"session {Name} failed: {error.Message}", error));

    void IReactorHandler.OnRemoved()
    {
        // Close releases the resources once UnregisterAsync has completed; nothing to do here.
    }
}
