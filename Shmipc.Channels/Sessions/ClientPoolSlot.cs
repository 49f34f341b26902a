using System.Diagnostics;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// One slot of a client pool (one of shmipc-go's SessionNum stream pools): the session new streams use, and the idle
/// streams given back on it.
/// </summary>
// Design: one lock guards the current session, the idle queue and the change signal. The session is swapped in whole
// (rebuild: null → new; hot restart: old → new); each swap completes the change signal, so the slot's watcher, which
// waits for the current session's end, notices a newer session at once. Idle streams belong to the session they were
// opened on: a swap hands them back to the caller to dispose, so no stream of an old session is handed out again.
// Streams are disposed outside the lock (disposing writes a close notice to the socket).
internal sealed class ClientPoolSlot(int index)
{
    private readonly Lock _lock = new();
    private readonly Queue<(SessionStream Stream, long Since)> _idle = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Session? _current;
    private Exception? _lastFailure;

    public int Index { get; } = index;

    /// <summary>The session new streams use; null while the slot is being rebuilt.</summary>
    public Session? Current => Volatile.Read(ref _current);

    /// <summary>Why the slot last lost its session or last failed to rebuild it.</summary>
    public Exception? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>Completes at the next swap.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>
    /// Replaces the session if it is still <paramref name="expected"/>; returns the idle streams of the replaced one
    /// (the caller disposes them), or null when the slot had changed meanwhile.
    /// </summary>
    public List<SessionStream>? TrySwap(Session? expected, Session? next, Exception? failure = null)
    {
        TaskCompletionSource changed;
        List<SessionStream> idle;
        lock (_lock)
        {
            if (!ReferenceEquals(_current, expected))
            {
                return null;
            }

            Volatile.Write(ref _current, next);
            if (failure is not null)
            {
                Volatile.Write(ref _lastFailure, failure);
            }

            idle = new List<SessionStream>(_idle.Count);
            while (_idle.TryDequeue(out var entry))
            {
                idle.Add(entry.Stream);
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        return idle;
    }

    /// <summary>Records a failed rebuild.</summary>
    public void RecordFailure(Exception failure) => Volatile.Write(ref _lastFailure, failure);

    /// <summary>
    /// Takes the oldest idle stream that is still open and younger than <paramref name="maxIdle"/> (shmipc-go's pool is a
    /// FIFO ring); older or broken ones go to <paramref name="discard"/>.
    /// </summary>
    public SessionStream? TryTakeIdle(TimeSpan maxIdle, ref List<SessionStream>? discard)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            while (_idle.TryDequeue(out var entry))
            {
                if (Stopwatch.GetElapsedTime(entry.Since, now) <= maxIdle && entry.Stream.IsReusable)
                {
                    return entry.Stream;
                }

                (discard ??= []).Add(entry.Stream);
            }
        }

        return null;
    }

    /// <summary>Keeps <paramref name="stream"/> for reuse if it belongs to the current session and there is room.</summary>
    public bool TryPutIdle(SessionStream stream, Session session, int capacity)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_current, session) || _idle.Count >= capacity)
            {
                return false;
            }

            _idle.Enqueue((stream, Stopwatch.GetTimestamp()));
            return true;
        }
    }

    /// <summary>Removes idle streams older than <paramref name="maxIdle"/> (shmipc-go's StreamMaxIdleTime) for disposal.</summary>
    public List<SessionStream>? TakeExpired(TimeSpan maxIdle)
    {
        var now = Stopwatch.GetTimestamp();
        List<SessionStream>? expired = null;
        lock (_lock)
        {
            // FIFO: the head is the longest idle; stop at the first one still young enough.
            while (_idle.TryPeek(out var entry) && Stopwatch.GetElapsedTime(entry.Since, now) > maxIdle)
            {
                _idle.Dequeue();
                (expired ??= []).Add(entry.Stream);
            }
        }

        return expired;
    }

    /// <summary>Number of idle streams.</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idle.Count;
            }
        }
    }
}
