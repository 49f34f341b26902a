using System.Globalization;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The old server's side of a hot restart (shmipc-go's Listener.HotRestart): HotRestart(epoch) to every live session,
/// then wait until each has answered HotRestartAck(epoch) or the timeout passed, which restores the normal state.
/// </summary>
// Design: one lock guards the state (in progress or not, the epoch, the sessions still owing an ack). Acks arrive on the
// reactor thread and only take the lock briefly; the caller awaits a TaskCompletionSource completed by the last ack.
// As in shmipc-go an ack counts only if its epoch is the one in progress, and a second hot restart is refused while one
// runs. Unlike shmipc-go, a session that ends during the hot restart no longer owes its ack (shmipc-go waits for the
// timeout): a client that disappeared cannot move anywhere, so there is nothing left to wait for.
internal sealed class ServerHotRestart
{
    private readonly Lock _lock = new();
    private readonly HashSet<Session> _pending = [];
    private TaskCompletionSource? _done;
    private ulong _epoch;

    /// <summary>Whether a hot restart waits for acknowledgements now.</summary>
    public bool InProgress
    {
        get
        {
            lock (_lock)
            {
                return _done is not null;
            }
        }
    }

    /// <summary>Runs one hot restart over <paramref name="sessions"/>.</summary>
    /// <exception cref="InvalidOperationException">Another hot restart is in progress (shmipc-go's ErrHotRestartInProgress).</exception>
    /// <exception cref="ShmipcException"><see cref="ShmipcErrorCode.Timeout"/>: not every session acknowledged in time.</exception>
    public async Task RunAsync(IEnumerable<Session> sessions, ulong epoch, TimeSpan timeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        int total;
        lock (_lock)
        {
            if (_done is not null)
            {
                throw new InvalidOperationException($"a hot restart (epoch {_epoch}) is in progress; try again later.");
            }

            _done = done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _epoch = epoch;
            foreach (var session in sessions)
            {
                if (!session.IsClosed)
                {
                    _pending.Add(session);
                }
            }

            total = _pending.Count;
        }

        try
        {
            foreach (var session in Snapshot())
            {
                try
                {
                    session.SendHotRestartFrame(EventType.HotRestart, epoch);
                }
                catch (ShmipcException)
                {
                    // The session closed (the write failed, or it was closing): it owes nothing now.
                    OnSessionEnded(session);
                }
            }

            CompleteIfNoneOwed();
            try
            {
                await done.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Session[] late;
                lock (_lock)
                {
                    late = [.. _pending];
                }

                // shmipc-go's hotRestartErrorCount: one per session that did not move in time.
                foreach (var session in late)
                {
                    session.Metrics.HotRestartFailed();
                }

                int owed = late.Length;

                throw new ShmipcException(
                    ShmipcErrorCode.Timeout,
                    string.Create(CultureInfo.InvariantCulture, $"hot restart (epoch {epoch}): {owed} of {total} sessions did not acknowledge within {timeout.TotalMilliseconds:0} ms; the listener is back to its normal state."));
            }
        }
        finally
        {
            // Done, timed out or cancelled: back to the normal state (acks for this epoch are ignored from now on).
            lock (_lock)
            {
                _pending.Clear();
                _done = null;
            }
        }
    }

    /// <summary>Reactor thread: a session sent HotRestartAck(<paramref name="epoch"/>).</summary>
    public void OnAck(Session session, ulong epoch)
    {
        lock (_lock)
        {
            if (_done is null || epoch != _epoch || !_pending.Remove(session))
            {
                // No hot restart in progress, a foreign epoch or a repeated ack: ignored, as shmipc-go does.
                return;
            }
        }

        // shmipc-go's hotRestartSuccessCount: one per session that acknowledged the move.
        session.Metrics.HotRestarted();
        CompleteIfNoneOwed();
    }

    /// <summary>A session ended: it owes no ack any more.</summary>
    public void OnSessionEnded(Session session)
    {
        lock (_lock)
        {
            if (_done is null || !_pending.Remove(session))
            {
                return;
            }
        }

        CompleteIfNoneOwed();
    }

    private Session[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _pending];
        }
    }

    private void CompleteIfNoneOwed()
    {
        TaskCompletionSource? done = null;
        lock (_lock)
        {
            if (_done is not null && _pending.Count == 0)
            {
                done = _done;
            }
        }

        done?.TrySetResult();
    }
}
