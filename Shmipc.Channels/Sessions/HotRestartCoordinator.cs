using Microsoft.Extensions.Logging;
using Shmipc.Channels.Diagnostics;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The client pool's side of a hot restart (shmipc-go's SessionManager handling HotRestart): each slot whose session
/// receives HotRestart(epoch) dials the address again with epoch-suffixed shared-memory names and swaps the new session
/// in for new streams; the old session stays open for the streams already on it. Once every slot has moved,
/// HotRestartAck(epoch) goes out on every old session. If that does not happen within the timeout, the old sessions
/// are closed (shmipc-go closes its reserve pools then).
/// </summary>
// Design: one lock guards the state: restarting or not, the epoch, the old sessions per slot (shmipc-go's reservePools)
// and the slots still dialing. Frames arrive on the reactor thread and are handed to the thread pool at once (dialing
// blocks). As in shmipc-go: while a restart runs, a HotRestart with another epoch is ignored, and so is a repeated one
// for a slot that already moved (or is moving); the first HotRestart of a new restart closes the old sessions still
// kept from the previous one. Additionally a HotRestart from a session that is no longer a slot's current one (an old
// session) is ignored: that slot has moved already.
internal sealed class HotRestartCoordinator
{
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(100);
    private readonly Lock _lock = new();
    private readonly ClientPoolSlot[] _slots;
    private readonly Func<ulong, CancellationToken, Task<Session>> _dial;
    private readonly TimeSpan _timeout;
    private readonly string _address;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly Dictionary<int, Session> _old = [];
    private readonly HashSet<int> _dialing = [];
    private bool _restarting;
    private ulong _epoch;
    private long _completed;

    public HotRestartCoordinator(
        ClientPoolSlot[] slots, Func<ulong, CancellationToken, Task<Session>> dial, TimeSpan timeout, string address, ILogger logger, CancellationToken stopping)
    {
        _slots = slots;
        _dial = dial;
        _timeout = timeout;
        _address = address;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>The epoch of the latest hot restart (0 before the first): sessions dialed from now on are named after it.</summary>
    public ulong Epoch
    {
        get
        {
            lock (_lock)
            {
                return _epoch;
            }
        }
    }

    /// <summary>Hot restarts completed (every slot moved and acknowledged).</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Reactor thread: <paramref name="session"/> received HotRestart(<paramref name="epoch"/>).</summary>
    public void OnHotRestart(Session session, ulong epoch) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Self.HandleAsync(s.Session, s.Epoch), (Self: this, Session: session, Epoch: epoch), preferLocal: false);

    /// <summary>Closes the old sessions still kept (pool disposal).</summary>
    public void CloseOldSessions()
    {
        Session[] old;
        lock (_lock)
        {
            old = [.. _old.Values];
            _old.Clear();
            _restarting = false;
        }

        foreach (var session in old)
        {
            session.Close(null);
        }
    }

    private async Task HandleAsync(Session session, ulong epoch)
    {
        Session[] previous = [];
        int slot;
        lock (_lock)
        {
            if (_restarting && epoch != _epoch)
            {
                Ignore(session, epoch, $"hot restart epoch {_epoch} is in progress");
                return;
            }

            slot = Array.FindIndex(_slots, s => ReferenceEquals(s.Current, session));
            if (slot < 0)
            {
                Ignore(session, epoch, "the session is no longer a slot's current session");
                return;
            }

            if (!_restarting)
            {
                _restarting = true;
                _epoch = epoch;
                previous = [.. _old.Values];
                _old.Clear();
                _dialing.Clear();
                _ = TimeOutAsync(epoch);
            }

            if (_old.ContainsKey(slot) || !_dialing.Add(slot))
            {
                Ignore(session, epoch, "repeated for a slot that has moved or is moving");
                return;
            }
        }

        foreach (var old in previous)
        {
            old.Close(null);
        }

        // shmipc-go dials once; a new server that has only just started may miss a handshake deadline, so dial again
        // (after 100 ms) for as long as this hot restart runs.
        Session? fresh = null;
        while (fresh is null)
        {
            try
            {
                fresh = await _dial(epoch, _stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ShmipcException or OperationCanceledException)
            {
                PoolLog.HotRestartDialFailed(_logger, _address, epoch, slot, e.Message);
                var retry = false;
                lock (_lock)
                {
                    retry = _restarting && _epoch == epoch && !_stopping.IsCancellationRequested;
                    if (!retry)
                    {
                        _dialing.Remove(slot);
                    }
                }

                if (!retry)
                {
                    return;
                }

                try
                {
                    await Task.Delay(s_retryDelay, _stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    lock (_lock)
                    {
                        _dialing.Remove(slot);
                    }

                    return;
                }
            }
        }

        Session[]? acknowledge = null;
        List<SessionStream>? idle = null;
        lock (_lock)
        {
            _dialing.Remove(slot);
            if (_restarting && _epoch == epoch && (idle = _slots[slot].TrySwap(session, fresh)) is not null)
            {
                _old[slot] = session;
                if (_old.Count == _slots.Length)
                {
                    _restarting = false;
                    acknowledge = [.. _old.Values];
                }
            }
        }

        if (idle is null)
        {
            // Timed out, the pool stopped, or the slot lost its session meanwhile (its watcher rebuilds it).
            fresh.Close(null);
            return;
        }

        // Idle streams were opened on the old session: new users get streams of the new one.
        foreach (var stream in idle)
        {
            stream.Close();
        }

        if (acknowledge is null)
        {
            return;
        }

        foreach (var old in acknowledge)
        {
            try
            {
                old.SendHotRestartFrame(EventType.HotRestartAck, epoch);
            }
            catch (ShmipcException)
            {
                // The old session is gone already: the old server does not wait for it either.
            }
        }

        Interlocked.Increment(ref _completed);
        PoolMetrics.HotRestarted();
        PoolLog.HotRestartDone(_logger, _address, epoch);
    }

    private async Task TimeOutAsync(ulong epoch)
    {
        try
        {
            await Task.Delay(_timeout, _stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Session[] old;
        lock (_lock)
        {
            if (!_restarting || _epoch != epoch)
            {
                return;
            }

            _restarting = false;
            old = [.. _old.Values];
            _old.Clear();
        }

        PoolLog.HotRestartTimedOut(_logger, _address, epoch);
        foreach (var session in old)
        {
            session.Close(null);
        }
    }

    private void Ignore(Session session, ulong epoch, string why) => PoolLog.HotRestartIgnored(_logger, _address, epoch, session.Name, why);
}
