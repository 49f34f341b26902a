using System.Threading.Channels;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The state of one stream inside a session: its inbound leases, its close states, whether it fell back to the socket.
/// </summary>
// Design:
// - Inbound: the reactor thread is the only writer of _input (a single-writer unbounded channel); readers are user
//   threads. The channel itself is unbounded, but the session's ReceiveBudget bounds what all its inputs hold: every
//   delivery is counted, every take (OnTaken) uncounted, and a full budget stops the session reading.
// - _localClosed / _remoteClosed are set once (Interlocked) and never cleared. shmipc has no half-open write side:
//   after the peer's close, writes fail (docs/PROTOCOL.md §5); after ours, the peer's in-flight data is still delivered.
// - A stream is released (removed from the session) once both sides closed it: by Dispose, by the later of the two
//   close notices, or when the reader drained Input after the peer's close (OnInputDrained, for a forgotten Dispose).
// - _inFallback (send direction) is set when a message of the stream goes over the socket. With a shmipc-go or
//   shmipc-rs peer it is sticky, as in shmipc: every later message follows over the socket, so the socket path and the
//   queue path cannot reorder the stream (docs/PROTOCOL.md §7, §14.20). With a Shmipc.NET peer (Session.PeerOrdersFallback)
//   it is cleared by the next message that goes through shared memory: such elements carry the number of fallback
//   frames sent before them (FallbackOrder), and the receiver holds an element back until it has delivered that many.
// - _fallbackSent: Interlocked, any writer thread, counted after the frame is on the socket. _fallbackReceived and
//   _heldCount change on the reactor thread only; _held is locked because Fail (any thread) drains it.
internal sealed class SessionStream
{
    private readonly Channel<ShmLease> _input;
    private readonly Queue<HeldMessage> _held = new();
    private int _localClosed;
    private int _remoteClosed;
    private int _removed;
    private int _inputDone;
    private int _fallbackEntered;
    private volatile bool _inFallback;
    private int _fallbackSent;
    private uint _fallbackReceived;
    private volatile int _heldCount;

    public SessionStream(Session session, uint id)
    {
        Session = session;
        Id = id;
        _input = Channel.CreateUnbounded<ShmLease>(new UnboundedChannelOptions
        {
            SingleWriter = true,
            SingleReader = false,
            AllowSynchronousContinuations = session.Options.RunContinuationsOnReactor,
        });
        Public = new ShmipcStream(this);

        // Once per stream, never per message: the reader took the last message of a stream the peer closed.
        _ = _input.Reader.Completion.ContinueWith(
            static (_, s) => ((SessionStream)s!).OnInputDrained(),
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default);
    }

    public Session Session { get; }

    public uint Id { get; }

    public ShmipcStream Public { get; }

    /// <summary>The inbound channel's reader; <see cref="ShmipcStream.Input"/> wraps it with the spin-before-park policy.</summary>
    public ChannelReader<ShmLease> RawInput => _input.Reader;

    public bool IsLocalClosed => Volatile.Read(ref _localClosed) != 0;

    public bool IsRemoteClosed => Volatile.Read(ref _remoteClosed) != 0;

    /// <summary>Whether the stream's next message goes over the socket even when slices are free.</summary>
    public bool InFallback => _inFallback;

    /// <summary>Status bits for this stream's queue elements: the fallback order tag once a fallback frame was sent.</summary>
    public uint SendOrderTag => FallbackOrder.Tag(Volatile.Read(ref _fallbackSent));

    /// <summary>Marks the stream as sending over the socket; counts the entry (not every message) on the meter.</summary>
    public void EnterFallback()
    {
        if (_inFallback)
        {
            return;
        }

        _inFallback = true;
        if (Interlocked.Exchange(ref _fallbackEntered, 1) == 0)
        {
            Session.Metrics.FallbackEntered();
            Diagnostics.ShmipcLog.FallbackEntered(Session.Logger, Session.Name, Id);
        }
    }

    /// <summary>A message went through shared memory again (Shmipc.NET peer only): the stream is back.</summary>
    public void LeaveFallback()
    {
        if (_inFallback)
        {
            _inFallback = false;
            Volatile.Write(ref _fallbackEntered, 0);
        }
    }

    /// <summary>A FallbackData frame of this stream is on the socket.</summary>
    public void FallbackSent() => Interlocked.Increment(ref _fallbackSent);

    /// <summary>Reactor thread: a queue element with data; held back while fallback frames sent before it are missing.</summary>
    public void DeliverOrdered(LeaseCore core, uint status)
    {
        if (_heldCount == 0 && FallbackOrder.IsReady(status, _fallbackReceived))
        {
            Deliver(core);
            return;
        }

        Hold(new HeldMessage(core, status));
    }

    /// <summary>Reactor thread: a close notice; waits behind held messages like data does.</summary>
    public void OnRemoteCloseOrdered(uint status)
    {
        if (_heldCount == 0 && FallbackOrder.IsReady(status, _fallbackReceived))
        {
            OnRemoteClose();
            return;
        }

        Hold(new HeldMessage(null, status));
    }

    /// <summary>Reactor thread: a FallbackData frame's message; then whatever waited for it.</summary>
    public void DeliverFallback(LeaseCore core)
    {
        Deliver(core);
        _fallbackReceived++;
        if (_heldCount == 0)
        {
            return;
        }

        while (true)
        {
            HeldMessage next;
            lock (_held)
            {
                if (!_held.TryPeek(out next) || !FallbackOrder.IsReady(next.Status, _fallbackReceived))
                {
                    return;
                }

                _held.Dequeue();
                _heldCount = _held.Count;
            }

            if (next.Core is { } c)
            {
                Deliver(c);
            }
            else
            {
                OnRemoteClose();
            }
        }
    }

    private void Hold(HeldMessage message)
    {
        lock (_held)
        {
            if (Volatile.Read(ref _removed) == 0)
            {
                _held.Enqueue(message);
                _heldCount = _held.Count;
                return;
            }
        }

        message.Core?.TryRelease(message.Core.Token);
    }

    private void ReleaseHeld()
    {
        lock (_held)
        {
            while (_held.TryDequeue(out var message))
            {
                message.Core?.TryRelease(message.Core.Token);
            }

            _heldCount = 0;
        }
    }

    /// <summary>Reactor thread: hands a received message to the reader, or recycles it if nobody will read it.</summary>
    public void Deliver(LeaseCore core)
    {
        var lease = new ShmLease(core);
        if (IsRemoteClosed || Volatile.Read(ref _inputDone) != 0 || Volatile.Read(ref _removed) != 0)
        {
            lease.Dispose();
            return;
        }

        // Counted before the write: a reader may take it (OnTaken) before TryWrite returns.
        var length = core.Length;
        Session.Budget.OnDelivered(length);
        if (!_input.Writer.TryWrite(lease))
        {
            Session.Budget.OnTaken(length);
            lease.Dispose();
        }
    }

    /// <summary>A reader took <paramref name="lease"/> from the input (or it is dropped unread): it leaves the receive budget.</summary>
    public void OnTaken(ShmLease lease)
    {
        if (lease.CoreOrNull is { } core)
        {
            Session.Budget.OnTaken(core.Length);
        }
    }

    /// <summary>The peer closed the stream: readers drain what is buffered, then see the end.</summary>
    public void OnRemoteClose()
    {
        if (Session.IsClosingLocally)
        {
            // The peer answered the close notice of our own session close: readers here see SessionClosed (Fail,
            // next), as for every local close, not an end that depends on how fast the peer answered.
            return;
        }

        if (Interlocked.Exchange(ref _remoteClosed, 1) != 0)
        {
            return;
        }

        _input.Writer.TryComplete();
        if (IsLocalClosed)
        {
            Session.RemoveStream(this);
        }
    }

    /// <summary>
    /// Thread pool, when Input completed normally and is empty. If the peer closed the stream and the reader took
    /// every message, nothing can flow either way any more (writes after the peer's close fail), so the stream is
    /// closed and released as Dispose would: a reader that forgets to dispose a finished stream leaks nothing.
    /// </summary>
    private void OnInputDrained()
    {
        if (!IsRemoteClosed || Volatile.Read(ref _removed) != 0)
        {
            return;
        }

        if (MarkLocalClosed())
        {
            try
            {
                // Our close notice, as CloseOutput sends it: the peer releases its side of the stream too.
                Session.SendClose(this);
            }
            catch (ShmipcException)
            {
                // The session closed meanwhile (it releases every stream itself).
            }
        }

        Session.RemoveStream(this);
    }

    /// <summary>Marks the local close; returns false when it was already closed locally.</summary>
    public bool MarkLocalClosed() => Interlocked.Exchange(ref _localClosed, 1) == 0;

    /// <summary>The session failed or closed: readers see <paramref name="error"/>; unread messages are recycled.</summary>
    public void Fail(Exception error)
    {
        Interlocked.Exchange(ref _localClosed, 1);
        if (Interlocked.Exchange(ref _remoteClosed, 1) == 0)
        {
            _input.Writer.TryComplete(error);
            DrainUnread();
        }

        MarkRemoved();
        ReleaseHeld();
    }

    /// <summary>The user disposed the stream: a reader still waiting sees the end of the stream.</summary>
    public void CompleteInputLocally()
    {
        Interlocked.Exchange(ref _inputDone, 1);
        _input.Writer.TryComplete();
    }

    /// <summary>The user is done with the stream: drop what was not read.</summary>
    public void DrainUnread()
    {
        if (_heldCount > 0)
        {
            ReleaseHeld();
        }

        while (_input.Reader.TryRead(out var lease))
        {
            OnTaken(lease);
            lease.Dispose();
        }
    }

    /// <summary>Removes the stream from accounting once; true the first time.</summary>
    public bool MarkRemoved()
    {
        if (Interlocked.Exchange(ref _removed, 1) != 0)
        {
            return false;
        }

        return true;
    }
}
