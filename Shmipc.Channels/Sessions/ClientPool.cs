using System.Globalization;
using Microsoft.Extensions.Logging;
using Shmipc.Channels.Diagnostics;
using Shmipc.Channels.Interop;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The client pool's engine (shmipc-go's SessionManager): N slots to one address, streams
/// handed out round-robin and taken back for reuse, a watcher per slot that rebuilds a dead session with back-off, and
/// the hot-restart coordinator.
/// </summary>
// Design:
// - Slots (ClientPoolSlot) hold the session new streams use; GetStream reads it without a lock and falls over to the next
//   slot when it is null (rebuilding) or closed. Streams already handed out stay on their session whatever happens to
//   the slot afterwards.
// - One watcher task per slot waits for the current session's end, a swap (hot restart or rebuild) or the idle sweep
//   tick. A session that ended while current empties the slot (its streams failed with the cause already) and the
//   watcher dials again: first after 100 ms, doubling up to RebuildInterval, until it succeeds or the pool stops.
// - Round-robin as shmipc-go: 32 consecutive GetStream calls per slot (sessionRoundRobinThreshold), then the next.
internal sealed class ClientPool : IAsyncDisposable
{
    private const int RoundRobinThreshold = 32;
    private static readonly TimeSpan s_firstRebuildDelay = TimeSpan.FromMilliseconds(100);

    private readonly Func<TimeSpan, SocketFd> _connect;
    private readonly ShmipcClientPoolOptions _options;
    private readonly ShmipcClientOptions _clientOptions;
    private readonly ClientPoolSlot[] _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly HotRestartCoordinator _coordinator;
    private Task[] _watchers = [];
    private long _count = -1;
    private long _rebuilds;
    private int _disposed;

    private ClientPool(Func<TimeSpan, SocketFd> connect, string address, ShmipcClientPoolOptions options)
    {
        _connect = connect;
        Address = address;
        _options = options;
        _clientOptions = options.ClientOptions;
        _logger = ShmipcLog.For(_clientOptions);
        _slots = new ClientPoolSlot[options.SessionCount];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new ClientPoolSlot(i);
        }

        _coordinator = new HotRestartCoordinator(
            _slots, (epoch, ct) => DialAsync(epoch, ct), options.HotRestartTimeout, address, _logger, _stop.Token);
    }

    public string Address { get; }

    public int SlotCount => _slots.Length;

    public int LiveSessionCount => _slots.Count(s => s.Current is { IsClosed: false });

    public long Rebuilds => Interlocked.Read(ref _rebuilds);

    public long HotRestarts => _coordinator.Completed;

    public ulong Epoch => _coordinator.Epoch;

    /// <summary>The slots (tests look at their sessions).</summary>
    internal IReadOnlyList<ClientPoolSlot> Slots => _slots;

    /// <summary>Connects every slot (all or nothing, as shmipc-go's NewSessionManager) and starts the watchers.</summary>
    public static async Task<ClientPool> CreateAsync(
        Func<TimeSpan, SocketFd> connect, string address, ShmipcClientPoolOptions options, CancellationToken cancellationToken)
    {
        var pool = new ClientPool(connect, address, options);
        try
        {
            foreach (var slot in pool._slots)
            {
                var session = await pool.DialAsync(epoch: 0, cancellationToken).ConfigureAwait(false);
                slot.TrySwap(null, session);
                PoolMetrics.SessionsChanged(1);
            }
        }
        catch
        {
            await pool.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        pool._watchers = [.. pool._slots.Select(pool.WatchAsync)];
        return pool;
    }

    /// <summary>A stream of a live slot: an idle one given back earlier, or a new one.</summary>
    public SessionStream GetStream()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var first = (int)((ulong)Interlocked.Increment(ref _count) / RoundRobinThreshold % (ulong)_slots.Length);
        List<SessionStream>? discard = null;
        try
        {
            for (var i = 0; i < _slots.Length; i++)
            {
                var slot = _slots[(first + i) % _slots.Length];
                var session = slot.Current;
                if (session is null || session.IsClosed)
                {
                    continue;
                }

                if (slot.TryTakeIdle(_options.IdleStreamTimeout, ref discard) is { } idle)
                {
                    return idle;
                }

                SessionStream opened;
                try
                {
                    opened = session.OpenStream();
                }
                catch (ShmipcException) when (session.IsClosed)
                {
                    // Died just now: its watcher takes over; try the next slot.
                    continue;
                }

                if (ReferenceEquals(slot.Current, session))
                {
                    return opened;
                }

                // A hot restart swapped the slot meanwhile: the stream has sent nothing yet, so it goes, and the caller
                // gets one of the new session (the old server is draining and will not wait for new work).
                opened.Close();
                i--;
            }
        }
        finally
        {
            DisposeAll(discard);
        }

        throw NoLiveSession();
    }

    /// <summary>Takes <paramref name="stream"/> back: kept for reuse when possible (nothing on the wire), else disposed.</summary>
    public void Return(SessionStream stream)
    {
        var session = stream.Session;
        if (Volatile.Read(ref _disposed) == 0)
        {
            foreach (var slot in _slots)
            {
                if (ReferenceEquals(slot.Current, session))
                {
                    if (stream.TryResetForReuse() && slot.TryPutIdle(stream, session, _options.MaxIdleStreamsPerSession))
                    {
                        return;
                    }

                    break;
                }
            }
        }

        // A stream of an old session (rebuilt, hot-restarted), a closed one, or no room: closed as usual.
        stream.Close();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_watchers).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The watchers stop with the pool.
        }

        var sessions = new List<Session>();
        foreach (var slot in _slots)
        {
            var session = slot.Current;
            var idle = slot.TrySwap(session, null);
            DisposeAll(idle);
            if (session is not null)
            {
                PoolMetrics.SessionsChanged(-1);
                sessions.Add(session);
            }
        }

        _coordinator.CloseOldSessions();
        foreach (var session in sessions)
        {
            session.Close(null);
        }

        foreach (var session in sessions)
        {
            try
            {
                await session.Completion.ConfigureAwait(false);
            }
            catch (ShmipcException)
            {
                // It had failed before; the pool's disposal is still complete.
            }
        }

        _stop.Dispose();
    }

    private Task<Session> DialAsync(ulong epoch, CancellationToken cancellationToken) =>
        // Connect and handshake block (bounded by their timeouts) on a thread of their own, not the thread pool's.
        Task.Factory.StartNew(
            () => ClientSessionFactory.Connect(_connect, _clientOptions, cancellationToken, epoch == 0 ? null : epoch, _coordinator.OnHotRestart),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private async Task WatchAsync(ClientPoolSlot slot)
    {
        var token = _stop.Token;
        var sweep = TimeSpan.FromTicks(Math.Clamp(_options.IdleStreamTimeout.Ticks / 2, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 5));
        while (!token.IsCancellationRequested)
        {
            var session = slot.Current;
            var changed = slot.Changed;
            if (session is null)
            {
                await RebuildAsync(slot, token).ConfigureAwait(false);
                continue;
            }

            try
            {
                await Task.WhenAny(session.Completion, changed, Task.Delay(sweep, token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            DisposeAll(slot.TakeExpired(_options.IdleStreamTimeout));
            if (session.IsClosed && slot.TrySwap(session, null, session.CloseReason) is { } idle)
            {
                PoolMetrics.SessionsChanged(-1);
                DisposeAll(idle);
                var reason = session.CloseReason?.Message ?? "closed";
                PoolLog.SlotLost(_logger, Address, slot.Index, session.Name, reason);
            }
        }
    }

    private async Task RebuildAsync(ClientPoolSlot slot, CancellationToken token)
    {
        var delay = s_firstRebuildDelay;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, token).ConfigureAwait(false);
                var epoch = _coordinator.Epoch;
                var session = await DialAsync(epoch, token).ConfigureAwait(false);
                if (slot.TrySwap(null, session) is null)
                {
                    session.Close(null);
                }
                else
                {
                    PoolMetrics.SessionsChanged(1);
                    PoolMetrics.Rebuilt();
                    Interlocked.Increment(ref _rebuilds);
                    PoolLog.Rebuilt(_logger, Address, slot.Index, session.Name);
                }

                return;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (ShmipcException e)
            {
                slot.RecordFailure(e);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RebuildInterval.Ticks));
                PoolLog.RebuildFailed(_logger, Address, slot.Index, e.Message, (long)delay.TotalMilliseconds);
            }
        }
    }

    private ShmipcException NoLiveSession()
    {
        var cause = _slots.Select(s => s.LastFailure).LastOrDefault(f => f is not null);
        return new ShmipcException(
            ShmipcErrorCode.SessionClosed,
            string.Create(CultureInfo.InvariantCulture, $"no session of the pool to {Address} is alive ({_slots.Length} being rebuilt, at most every {_options.RebuildInterval.TotalSeconds:0.#} s)")
            + (cause is null ? "." : $": {cause.Message}"),
            cause);
    }

    private static void DisposeAll(List<SessionStream>? streams)
    {
        if (streams is null)
        {
            return;
        }

        foreach (var stream in streams)
        {
            stream.Close();
        }
    }
}
