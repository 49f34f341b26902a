using System.Threading.Channels;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The state of one stream inside a session: its inbound leases, its close states, whether it fell back to the socket.
/// </summary>
// Design:
// - Inbound: the reactor thread is the only writer of _input (a single-writer unbounded channel); readers are user
//   threads. The channel itself is unbounded, but the session's ReceiveBudget bounds what all its inputs hold: every
//   delivery is counted, every take (OnTaken) uncounted, and a full budget stops the session reading.
// - Close state: one int, _state, of StreamState flag bits. Each bit is set once, only by TrySet (a CAS loop that
//   says whether this call set it), and never cleared; reads are Volatile. shmipc has no half-open write side: after
//   the peer's close, writes fail (docs/PROTOCOL.md §5); after ours, the peer's in-flight data is still delivered.
//   Transitions, each followed by Settle, the one place that decides the release:
//     CloseOutput (user; Output.TryComplete)  +LocalClosed (+OutputCompleted), then our close notice
//     OnRemoteClose (reactor, peer's notice)  +RemoteClosed, Input completes normally
//     OnInputDrained (reader took the last    +LocalClosed, then our close notice (the peer already closed)
//       message after the peer's close)
//     Close (user Dispose)                    CloseOutput, then +InputDone, Input completes, unread messages recycled
//     Fail (the session closed or failed)     +LocalClosed, +RemoteClosed (Input fails with the reason, unread recycled)
//   Settle: LocalClosed and (RemoteClosed or InputDone) means nothing can flow any more, so whoever sets Removed
//   first takes the stream out of the session's table and recycles held messages. Discard sets Removed alone, for a
//   stream that never made it into the table.
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
    private int _state;
    private FacadeSlot _facade;
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

    /// <summary>The public object wrapping this stream, created by <paramref name="create"/> on first use (one per stream).</summary>
    public T GetFacade<T>(Func<SessionStream, T> create)
        where T : class => _facade.GetOrCreate(this, create);

    /// <summary>The inbound channel's reader; the public Input wraps it with the spin-before-park policy.</summary>
    public ChannelReader<ShmLease> RawInput => _input.Reader;

    /// <summary>The close state (see Design).</summary>
    public StreamState State => (StreamState)Volatile.Read(ref _state);

    public bool IsLocalClosed => Has(StreamState.LocalClosed);

    public bool IsRemoteClosed => Has(StreamState.RemoteClosed);

    /// <summary>
    /// Whether a pool may hand the stream out again: neither side closed it, its session is open, and it is not in
    /// fallback (shmipc-go's stream pool does not reuse a stream in fallback either).
    /// </summary>
    public bool IsReusable =>
        (State & (StreamState.LocalClosed | StreamState.RemoteClosed)) == 0 && !InFallback && !Session.IsClosed;

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
            if (!Has(StreamState.Removed))
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
        if ((State & (StreamState.RemoteClosed | StreamState.InputDone | StreamState.Removed)) != 0)
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

        if (!TrySet(StreamState.RemoteClosed))
        {
            return;
        }

        _input.Writer.TryComplete();
        Settle();
    }

    /// <summary>
    /// Closes the stream towards the peer (a close element, or a StreamClose frame when the queue is full); false when
    /// it was closed locally already. Never throws: if the notice cannot be written, the session closes.
    /// </summary>
    public bool CloseOutput()
    {
        if (!TrySet(StreamState.LocalClosed))
        {
            return false;
        }

        TrySet(StreamState.OutputCompleted);

        // Sent even when the peer closed first (shmipc-go sends nothing then): a .NET peer that closed its output
        // and still reads Input sees it complete; a Go or Rust peer ignores a close for a stream it no longer has.
        SendCloseNotice();
        Settle();
        return true;
    }

    /// <summary>Output.TryComplete: marks the output completed (true the first time); the caller then closes the stream.</summary>
    public bool TryCompleteOutput() => TrySet(StreamState.OutputCompleted);

    /// <summary>
    /// Session close only: marks the local close of a stream whose notice the session sends itself (without waiting);
    /// false when it was closed locally already. <see cref="Fail"/> follows and settles the stream.
    /// </summary>
    public bool TryMarkClosedBySession() => TrySet(StreamState.LocalClosed);

    /// <summary>The user disposed the stream: closed towards the peer, a reader still waiting sees the end, unread messages are recycled.</summary>
    public void Close()
    {
        CloseOutput();
        if (TrySet(StreamState.InputDone))
        {
            _input.Writer.TryComplete();
        }

        DrainUnread();
        Settle();
    }

    /// <summary>
    /// Prepares the stream for its next user, as shmipc-go's stream pool does (reset, then release what was read and
    /// not consumed): nothing goes on the wire, messages not yet read are recycled. False if it cannot be reused.
    /// </summary>
    public bool TryResetForReuse()
    {
        if (!IsReusable)
        {
            return false;
        }

        DrainUnread();
        return true;
    }

    /// <summary>The session failed or closed: readers see <paramref name="error"/>; unread messages are recycled.</summary>
    public void Fail(Exception error)
    {
        TrySet(StreamState.LocalClosed);
        if (TrySet(StreamState.RemoteClosed))
        {
            _input.Writer.TryComplete(error);
            DrainUnread();
        }

        Settle();
    }

    /// <summary>A stream that lost the race for its id and never entered the session's table: nothing to release.</summary>
    public void Discard() => TrySet(StreamState.Removed);

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

    /// <summary>
    /// Thread pool, when Input completed normally and is empty. If the peer closed the stream and the reader took
    /// every message, nothing can flow either way any more (writes after the peer's close fail), so the stream is
    /// closed and released as Dispose would: a reader that forgets to dispose a finished stream leaks nothing.
    /// </summary>
    private void OnInputDrained()
    {
        if ((State & (StreamState.RemoteClosed | StreamState.Removed)) != StreamState.RemoteClosed)
        {
            return;
        }

        if (TrySet(StreamState.LocalClosed))
        {
            // Our close notice, as CloseOutput sends it: the peer releases its side of the stream too.
            SendCloseNotice();
        }

        Settle();
    }

    /// <summary>The one release decision, after every transition (see Design).</summary>
    private void Settle()
    {
        var state = State;
        if ((state & StreamState.LocalClosed) == 0
            || (state & (StreamState.RemoteClosed | StreamState.InputDone)) == 0
            || !TrySet(StreamState.Removed))
        {
            return;
        }

        Session.Forget(this);

        // Nothing delivers them any more: messages still held for fallback order go back to the free lists now,
        // not when the session's region is unmapped.
        ReleaseHeld();
    }

    private void SendCloseNotice()
    {
        try
        {
            Session.SendClose(this);
        }
        catch (ShmipcException)
        {
            // The notice could not be written, so the session closed (its Completion says why): the peer sees the
            // whole connection end instead, and the session fails every stream. Closing a stream never throws.
        }
    }

    private bool Has(StreamState flag) => (Volatile.Read(ref _state) & (int)flag) != 0;

    /// <summary>Sets <paramref name="flag"/>; true when this call set it (false when it was set already).</summary>
    private bool TrySet(StreamState flag)
    {
        var current = Volatile.Read(ref _state);
        while ((current & (int)flag) == 0)
        {
            var seen = Interlocked.CompareExchange(ref _state, current | (int)flag, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }
}
