using System.Globalization;
using Shmipc.Channels.Diagnostics;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Reactor;

namespace Shmipc.Channels.Sessions;

/// <summary>The receive side: runs on the reactor thread only.</summary>
internal sealed partial class Session
{
    private const int ReceiveChunk = 64 * 1024;
    private const uint StatusMask = 0xFF;
    private const byte StateOpened = 0;
    private const byte StateClosed = 1;

    private readonly FrameParser _parser;
    private readonly ReceiveBuffer _receiveBuffer;

    // Held by whoever runs the receive side: the reactor (Poll, OnReady) or a reader that drains the queue itself
    // (TryDrainForReader). Released resources are freed under it too, so a reader never walks an unmapped queue.
    private readonly Lock _receiveLock = new();

    // Bumped by readers that drained the queue. Once they have stopped spinning, the reactor counts it as its own work
    // (it spins on, so the working flag stays set while readers that come back quickly take the traffic); while they
    // spin, it does not (it stays parked and they hold the flag).
    private int _readerDrains;
    private int _readerDrainsSeen;

    // Readers spinning on this session's receive queue now (StreamChannelReader.SpinUntilAvailable).
    private int _spinningReaders;

    /// <summary>Reactor: drain the receive queue and release writers waiting for room.</summary>
    bool IReactorHandler.Poll()
    {
        if (IsClosed)
        {
            return false;
        }

        var readersSpinning = ReadersSpinning;
        if (!_receiveLock.TryEnter())
        {
            // A reader is draining the queue right now: work in progress, come back on the next pass (or, while
            // readers spin, leave the queue to them: the reactor would only take their core).
            return !readersSpinning;
        }

        var drains = Volatile.Read(ref _readerDrains);
        var work = drains != _readerDrainsSeen && !readersSpinning;
        _readerDrainsSeen = drains;
        _inReactorCallback = true;
        try
        {
            if (Budget.IsPaused)
            {
                // Readers freed enough of the budget (they woke us): read the socket and the queue again.
                if (Budget.TryResume())
                {
                    ShmipcReactor.Shared.UpdateEvents(this);
                    work = true;
                }
            }

            // Dispatch can run user code (RunContinuationsOnReactor) that closes this session: the drain stops then.
            if (!Budget.IsPaused)
            {
                work |= DrainReceiveQueue(budgeted: true);
            }

            if (!IsClosed && Volatile.Read(ref _waiterCount) > 0 && !ReleaseWaitersIfRoom())
            {
                ExpireWaiters();
            }

            // After the batch (and on the pass the guard's wake-up causes): did a peer truncate our shared memory?
            if (!IsClosed && (Buffer.Region.WasTruncated || _queueRegion.WasTruncated))
            {
                Close(CreateTruncatedException(null));
                return true;
            }
        }
        catch (ShmipcException e)
        {
            Close(TruncatedOr(e));
            return true;
        }
        finally
        {
            LeaveReactorCallback();
            _receiveLock.Exit();
        }

        return work;
    }

    /// <summary>
    /// Reader thread: a reader starts spinning for its next message. While any reader spins, it holds the receive
    /// queue's working flag (so the peer sends no wake-up for the message it waits for) and drains the queue, for every
    /// stream; the reactor stays parked. The last reader to stop gives the flag back (<see cref="ReaderSpinEnded"/>).
    /// </summary>
    public void ReaderSpinStarted()
    {
        Interlocked.Increment(ref _spinningReaders);
        if (!IsClosed && !Budget.IsPaused && _receiveLock.TryEnter())
        {
            try
            {
                if (Volatile.Read(ref _released) == 0)
                {
                    _recvQueue.MarkWorking();
                }
            }
            finally
            {
                _receiveLock.Exit();
            }
        }
    }

    /// <summary>
    /// Reader thread: a spin ended (the reader found its message, or is about to park). The last spinning reader gives
    /// the working flag back if the reactor is parked: it clears it with the re-check of docs/PROTOCOL.md §6, so the
    /// peer's next message brings a wake-up, and wakes the reactor itself if a message came in meanwhile. A running
    /// reactor needs nothing: it clears the flag when it parks (TryPark).
    /// </summary>
    public void ReaderSpinEnded()
    {
        // The count first, then the reactor's epoch bump and parked read (full fences; the reactor's Dekker side is in
        // its Design notes): either this sees it parked, or it sees the epoch change and clears the flag itself.
        var last = Interlocked.Decrement(ref _spinningReaders) == 0;
        if (!ShmipcReactor.Shared.ReaderSpinEnded() || !last)
        {
            // The reactor runs (its TryPark releases), or readers still spin (the last one releases).
            return;
        }

        // Enter, not TryEnter: the holder may be an earlier last reader that saw this one still counted and left the
        // release to it; giving up here too would leave the flag set with nobody spinning and the reactor parked for
        // good (a lost wake-up, seen as a stalled hot-restart test under load). Held only for a drain or a release.
        _receiveLock.Enter();
        try
        {
            if (Volatile.Read(ref _released) == 0 && !IsClosed && !Budget.IsPaused && !ReadersSpinning && !_recvQueue.MarkNotWorking())
            {
                ShmipcReactor.Shared.Wake(); // a message arrived after the last drain: the reactor takes it
            }
        }
        catch (ShmipcException e)
        {
            Close(TruncatedOr(e));
        }
        finally
        {
            _receiveLock.Exit();
        }
    }

    /// <inheritdoc />
    bool IReactorHandler.ReadersSpinning => ReadersSpinning;

    private bool ReadersSpinning => Volatile.Read(ref _spinningReaders) > 0;

    /// <summary>
    /// Whether this side's receive queue holds the working flag now (clear: the reactor parked, or the last reader to
    /// stop spinning gave it back). For tests, on an open session only: it reads the queue mapping.
    /// </summary>
    internal bool ReceiveQueueWorking => Volatile.Read(ref _released) == 0 && _recvQueue.IsWorking;

    /// <summary>
    /// Reader thread: a reader that waits for its next message drains the receive queue itself, so the message does not
    /// travel reactor → channel → thread pool → reader (docs/ARCHITECTURE.md §7). Other streams' messages popped on the
    /// way go into their inputs as the reactor would put them there (their readers resume on the thread pool).
    /// </summary>
    /// <returns>true when it delivered at least one element.</returns>
    /// <remarks>
    /// Only the plain case: an open session with room in its receive budget; a paused budget (epoll re-arming) stays the
    /// reactor's, which also keeps reading the socket. A drain that found the queue full tells the peer (SignalRoom), as
    /// the reactor's does. Never blocks: if the reactor or another reader holds the receive side, false.
    /// </remarks>
    public bool TryDrainForReader()
    {
        if (IsClosed || Budget.IsPaused || !_receiveLock.TryEnter())
        {
            return false;
        }

        var any = false;
        try
        {
            // Under the lock, _released is stable: the queue mapping cannot go away while we walk it.
            if (Volatile.Read(ref _released) != 0)
            {
                return false;
            }

            // Checked before every pop, not once: the peer may fill the queue while we drain, and a writer of its that
            // waits for room must hear of the room we made (SignalRoom), or it waits for its reactor's back-off poll.
            var wasFull = false;
            while (!IsClosed && !Budget.IsFull)
            {
                wasFull |= _recvQueue.Count >= _recvQueue.Capacity;
                if (!_recvQueue.TryPop(out var element))
                {
                    break;
                }

                any = true;
                Dispatch(element);
            }

            if (wasFull && any && !IsClosed)
            {
                SignalRoom();
            }
        }
        catch (ShmipcException e)
        {
            Close(TruncatedOr(e));
            any = true;
        }
        finally
        {
            if (any)
            {
                Interlocked.Increment(ref _readerDrains);
            }

            _receiveLock.Exit();
        }

        return any;
    }

    /// <summary>Ends a Poll/OnReady; performs a release that a re-entrant Close deferred.</summary>
    private void LeaveReactorCallback()
    {
        _inReactorCallback = false;
        if (_releaseDeferred)
        {
            _releaseDeferred = false;
            ReleaseResources();
        }
    }

    /// <summary>Reactor: the socket is readable (frames, or the peer hung up).</summary>
    bool IReactorHandler.OnReady(uint events)
    {
        if (IsClosed)
        {
            return false;
        }

        _receiveLock.Enter();
        _inReactorCallback = true;
        try
        {
            // The peer stopped writing (or the connection broke): what is left in the socket is bounded by its buffer,
            // so read it all whatever the budget, and close.
            var peerDone = (events & (EpollHandle.EPOLLHUP | EpollHandle.EPOLLERR | EpollHandle.EPOLLRDHUP)) != 0;
            if (!peerDone && Budget.IsPaused)
            {
                // An event epoll collected before the pause took the socket out of the read set.
                return false;
            }

            var eof = false;
            while (true)
            {
                if (!peerDone && PauseIfBudgetFull())
                {
                    break;
                }

                var span = _receiveBuffer.GetWriteSpan(Math.Min(ReceiveChunk, Options.MaxFrameLength));
                var n = Socket.TryReceive(span);
                if (n < 0)
                {
                    break;
                }

                if (n == 0)
                {
                    eof = true;
                    break;
                }

                _receiveBuffer.Advance(n);
                ParseFrames();
                if (IsClosed)
                {
                    return true;
                }
            }

            if (eof || (events & (EpollHandle.EPOLLHUP | EpollHandle.EPOLLERR)) != 0)
            {
                // What the peer queued before it hung up (data, close notices) is still delivered.
                DrainReceiveQueue();

                // Unlike shmipc-go (§14.13) every frame sent before the hang-up has been handled above.
                Close(new ShmipcException(ShmipcErrorCode.PeerClosed, $"session {Name}: the peer closed the connection."));
            }
        }
        catch (ShmipcException e)
        {
            Close(TruncatedOr(e));
        }
        finally
        {
            LeaveReactorCallback();
            _receiveLock.Exit();
        }

        return true;
    }

    /// <summary>
    /// <paramref name="error"/>, or the truncation behind it: zeros read from a truncated page make slice headers and
    /// queue elements look corrupt, and the truncation is what the user must hear about.
    /// </summary>
    private ShmipcException TruncatedOr(ShmipcException error) =>
        error.ErrorCode == ShmipcErrorCode.CorruptSharedMemory && (Buffer.Region.WasTruncated || _queueRegion.WasTruncated)
            ? CreateTruncatedException(error)
            : error;

    private ShmipcException CreateTruncatedException(ShmipcException? inner)
    {
        var region = Buffer.Region.WasTruncated ? Buffer.Region : _queueRegion;
        var what = ReferenceEquals(region, _queueRegion) ? "queue" : "buffer region";
        var now = region.CurrentSize();
        var size = now < 0 ? "an unknown size" : string.Create(CultureInfo.InvariantCulture, $"{now} bytes");
        var message = string.Create(
            CultureInfo.InvariantCulture,
            $"session {Name}: the peer truncated the shared {what} '{region.Name}' to {size} while {region.Length} bytes were mapped; the pages cut off read as zeros, so the session was closed.");
        ShmipcLog.SharedMemoryTruncated(Logger, Name, message);
        return new ShmipcException(ShmipcErrorCode.CorruptSharedMemory, message, inner);
    }

    /// <summary>Dispatches queued elements; a budgeted drain stops (and pauses the session) when the receive budget is full.</summary>
    /// <param name="budgeted">
    /// false for the drains that keep a stream's order before a socket frame (StreamClose, FallbackData) or before the
    /// close: those must empty the queue, and what they deliver is bounded by the queue and the shared memory.
    /// </param>
    private bool DrainReceiveQueue(bool budgeted = false)
    {
        // The peer may have writers waiting for room only if the queue was full (checked once per drain, not per element).
        var wasFull = _recvQueue.Count >= _recvQueue.Capacity;
        var work = false;
        while (!IsClosed)
        {
            if (budgeted && PauseIfBudgetFull())
            {
                break;
            }

            if (!_recvQueue.TryPop(out var element))
            {
                break;
            }

            work = true;
            Dispatch(element);
        }

        if (wasFull && work && !IsClosed)
        {
            SignalRoom();
        }

        return work;
    }

    /// <summary>
    /// Pauses the session when its readers left the receive budget full: the socket leaves the epoll read set and the
    /// queue is not drained, until a reader's take wakes the reactor (Poll resumes). True when paused.
    /// </summary>
    private bool PauseIfBudgetFull()
    {
        if (!Budget.IsFull)
        {
            return false;
        }

        var wasPaused = Budget.IsPaused;
        if (!Budget.TryPause())
        {
            return false;
        }

        if (!wasPaused)
        {
            ShmipcReactor.Shared.UpdateEvents(this);
        }

        return true;
    }

    private void ParseFrames()
    {
        while (_parser.TryParse(_receiveBuffer.Readable, out var frame))
        {
            HandleFrame(frame, _receiveBuffer.Readable);
            _receiveBuffer.Consume(frame.FrameLength);
            if (IsClosed)
            {
                return;
            }
        }
    }

    private void HandleFrame(in FrameEvent frame, ReadOnlySpan<byte> buffer)
    {
        switch (frame.Type)
        {
            case EventType.Polling:
                if ((frame.Version & ProtocolConstants.OrderedFallbackVersionBit) != 0)
                {
                    OnPeerOrdersFallback();
                    break;
                }

                // A wake-up: the receive queue is drained by Poll() on this same pass.
                Metrics.SyncReceived();
                break;
            case EventType.StreamClose:
                // The peer queued its earlier elements before it wrote this frame: deliver them first, or a close
                // could overtake the stream's last messages (docs/PROTOCOL.md §14.20).
                DrainReceiveQueue();
                if (_streams.TryGetValue(frame.StreamId, out var closing))
                {
                    closing.OnRemoteCloseOrdered(0);
                }

                break;
            case EventType.FallbackData:
                // Same ordering rule: a stream's messages queued before it fell back to the socket come first.
                DrainReceiveQueue();
                OnFallbackData(frame.StreamId, frame.StreamState, frame.GetPayload(buffer));
                break;
            case EventType.HotRestart:
            case EventType.HotRestartAck:
                // Session.HotRestart.cs: the pool's coordinator (client) or the listener (server) handles it, if any.
                OnHotRestartFrame(frame.Type, frame.Epoch);
                break;
            default:
                throw new ShmipcException(ShmipcErrorCode.ProtocolViolation, $"session {Name}: unexpected frame {frame} in the data phase.");
        }
    }

    private void OnFallbackData(uint streamId, byte state, ReadOnlySpan<byte> payload)
    {
        Metrics.FallbackRead(payload.Length);
        if (state > StateClosed)
        {
            throw new ShmipcException(ShmipcErrorCode.ProtocolViolation, $"session {Name}: FallbackData for stream {streamId} has unknown state {state} (expected 0 opened or 1 closed).");
        }

        if (state == StateClosed)
        {
            if (_streams.TryGetValue(streamId, out var s))
            {
                s.OnRemoteCloseOrdered(0);
            }

            return;
        }

        var stream = FindOrAccept(streamId, state);
        if (stream is null)
        {
            return;
        }

        // shmipc's rule: the receiving stream also switches to the socket (docs/PROTOCOL.md §7). A Shmipc.NET peer orders
        // both paths, so towards it the replies keep using shared memory.
        if (!PeerOrdersFallback)
        {
            stream.EnterFallback();
        }

        var core = LeaseCore.Rent();
        core.BeginReceivedHeap(this, streamId, payload);
        stream.DeliverFallback(core);
    }

    /// <summary>Reactor thread: the peer announced that it orders fallback frames; answer once (off the reactor).</summary>
    private void OnPeerOrdersFallback()
    {
        if (_peerOrdersFallback)
        {
            return;
        }

        _peerOrdersFallback = true;
        ShmipcLog.PeerOrdersFallback(Logger, Name);
        if (Volatile.Read(ref _announced) == 0)
        {
            // A socket write may block; the reactor never waits for the peer.
            ThreadPool.UnsafeQueueUserWorkItem(static session => session.AnnounceSafely(), this, preferLocal: false);
        }
    }

    private void AnnounceSafely()
    {
        try
        {
            AnnounceOrderedFallback();
        }
        catch (ShmipcException)
        {
            // The write failed and closed the session; its streams report why.
        }
    }

    private void Dispatch(in QueueElement element)
    {
        var state = (byte)(element.Status & StatusMask);
        if (state > StateClosed)
        {
            throw new ShmipcException(ShmipcErrorCode.CorruptSharedMemory, $"session {Name}: queue element for stream {element.StreamId} has unknown state {state} (expected 0 opened or 1 closed).");
        }

        if (state == StateClosed)
        {
            if (_streams.TryGetValue(element.StreamId, out var s))
            {
                s.OnRemoteCloseOrdered(element.Status);
            }

            return;
        }

        // Validate the whole chain before anything else: a bad offset closes the session (docs/PROTOCOL.md §4.8).
        var core = LeaseCore.Rent();
        core.BeginReceived(this, Buffer, element.StreamId);
        try
        {
            ReadChain(core, element.Offset);
        }
        catch
        {
            core.TryDetach(core.Token);
            throw;
        }

        var stream = FindOrAccept(element.StreamId, state);
        if (stream is null)
        {
            // Data for a stream this client does not know: recycle the message (docs/PROTOCOL.md §5).
            core.TryRelease(core.Token);
            return;
        }

        core.FinishReceived();
        Metrics.Received(core.Length);
        stream.DeliverOrdered(core, element.Status);
    }

    private SessionStream? FindOrAccept(uint streamId, byte state)
    {
        if (_streams.TryGetValue(streamId, out var stream))
        {
            return stream;
        }

        if (IsClient || state != StateOpened)
        {
            return null;
        }

        stream = new SessionStream(this, streamId);
        if (!_streams.TryAdd(streamId, stream))
        {
            stream.Discard();
            return _streams.TryGetValue(streamId, out var existing) ? existing : null;
        }

        // Race with Close on another thread (the user's DisposeAsync), while a reader's drain or the reactor dispatches
        // an element it popped before the close: Close marks the session closed, then fails and clears the streams it
        // finds. A stream added here after that pass was never failed: the message delivered into it stayed in its
        // input for good (no reader: _incoming is completed), holding its slices and the region's mapping. Close
        // publishes Closed with a full fence before it walks _streams; the fence here orders our add before the check,
        // so either Close's pass sees the stream (and fails it; Deliver then recycles the message) or we see Closed
        // here and fail it ourselves. Once per accepted stream, not per message.
        Interlocked.MemoryBarrier();
        if (IsClosed)
        {
            stream.Fail(CreateClosedException());
            _streams.TryRemove(new KeyValuePair<uint, SessionStream>(streamId, stream));
            return null;
        }

        _incoming.Writer.TryWrite(stream);
        return stream;
    }

    private void ReadChain(LeaseCore core, uint offset)
    {
        // The enumerator validates each slice as it reaches it (header position, cap, start + size, loops); a
        // corrupt slice throws before its bytes are used, and the core is then discarded without recycling.
        foreach (var segment in Buffer.Manager.EnumerateChain(offset))
        {
            core.AddReceivedSlice(segment.SliceOffset, segment.DataOffset, segment.Length);
        }
    }
}
