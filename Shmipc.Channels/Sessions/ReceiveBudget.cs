namespace Shmipc.Channels.Sessions;

/// <summary>
/// The receive budget of one session: bytes and messages delivered to the streams' inputs
/// but not yet taken by a reader. While it is full the session reads neither its socket nor its receive queue, so
/// the peer's writers wait (queue full, socket buffer full) instead of this process's heap growing.
/// </summary>
// Design:
// - The reactor thread adds on delivery (OnDelivered) and decides to pause (TryPause); reader threads subtract on take
//   (OnTaken). Both counters are Interlocked; _paused is written by the reactor only (TryPause/TryResume) and read
//   by readers.
// - No lost resume: the reactor sets _paused = 1 with a full fence and then re-reads the counters; a reader subtracts
//   with a full fence and then reads _paused. Either the reactor sees the freed budget and does not stay paused, or
//   the reader sees _paused == 1 and wakes the reactor (Wake is "schedule once", so extra calls are harmless). The
//   reactor's own park is covered the same way: it publishes _parked and then asks HasWaiters (IsResumable) before
//   blocking, while the reader's Wake swaps _parked after its decrement.
// - Hysteresis: the session pauses at the limit and resumes at half of it, so a reader that takes one message at
//   a time does not make the reactor re-arm the socket (two epoll_ctl calls) for every message.
internal sealed class ReceiveBudget(long maxBytes, int maxMessages, Action wakeReactor)
{
    private long _bytes;
    private long _messages;
    private long _pauses;
    private int _paused;

    /// <summary>Bytes delivered to readers' inputs and not taken yet.</summary>
    public long BufferedBytes => Volatile.Read(ref _bytes);

    /// <summary>Messages delivered to readers' inputs and not taken yet.</summary>
    public long BufferedMessages => Volatile.Read(ref _messages);

    /// <summary>How many times the session stopped reading because the budget was full.</summary>
    public long Pauses => Volatile.Read(ref _pauses);

    /// <summary>Whether the session has stopped reading (reactor's view; readers use it to decide on a wake-up).</summary>
    public bool IsPaused => Volatile.Read(ref _paused) != 0;

    /// <summary>Whether the session is paused but readers have taken enough for it to read again (a pass of the reactor is due).</summary>
    public bool IsResumable => Volatile.Read(ref _paused) != 0 && IsBelowResumeMark;

    /// <summary>Whether the budget is used up (the next read should not happen).</summary>
    public bool IsFull => Volatile.Read(ref _bytes) >= maxBytes || Volatile.Read(ref _messages) >= maxMessages;

    private bool IsBelowResumeMark => Volatile.Read(ref _bytes) <= maxBytes / 2 && Volatile.Read(ref _messages) <= maxMessages / 2;

    /// <summary>Reactor: a message of <paramref name="length"/> bytes went into a stream's input.</summary>
    public void OnDelivered(int length)
    {
        Interlocked.Add(ref _bytes, length);
        Interlocked.Increment(ref _messages);
    }

    /// <summary>Any thread: a reader took a message of <paramref name="length"/> bytes (or it was dropped unread).</summary>
    public void OnTaken(int length)
    {
        Interlocked.Add(ref _bytes, -length);
        var left = Interlocked.Decrement(ref _messages);

        // Interlocked above is a full fence: the read of _paused below cannot move before it (see Design).
        if (Volatile.Read(ref _paused) != 0 && left <= maxMessages / 2 && Volatile.Read(ref _bytes) <= maxBytes / 2)
        {
            wakeReactor();
        }
    }

    /// <summary>Reactor: marks the session paused if the budget is full; false when it is not (or no longer) full.</summary>
    public bool TryPause()
    {
        if (!IsFull)
        {
            return false;
        }

        if (Volatile.Read(ref _paused) != 0)
        {
            return true;
        }

        Interlocked.Exchange(ref _paused, 1);
        if (IsBelowResumeMark)
        {
            // A reader freed the budget between the check and the publication; it may not have seen _paused.
            Volatile.Write(ref _paused, 0);
            return false;
        }

        Interlocked.Increment(ref _pauses);
        return true;
    }

    /// <summary>Reactor: ends a pause once readers took enough; true when the session may read again.</summary>
    public bool TryResume()
    {
        if (Volatile.Read(ref _paused) == 0)
        {
            return true;
        }

        if (!IsBelowResumeMark)
        {
            return false;
        }

        Volatile.Write(ref _paused, 0);
        return true;
    }
}
