using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Reactor;

namespace Shmipc.Channels.Sessions;

/// <summary>The send side: any thread.</summary>
internal sealed partial class Session
{
    private readonly object _sendLock = new();
    private readonly object _socketLock = new();
    private readonly byte[] _pollingFrame = new byte[ProtocolConstants.HeaderSize];
    private readonly byte[] _announceFrame = new byte[ProtocolConstants.HeaderSize];
    private readonly object _sliceWaitLock = new();
    private TaskCompletionSource? _slicesFreed;
    private int _sliceWaiters;
    // Writers waiting for queue room, and finished waiters to reuse (both under the _waiters lock).
    private readonly List<RoomWaiter> _waiters = [];
    private readonly Stack<RoomWaiter> _waiterPool = new();
    private int _waiterCount;

    // Under _socketLock: a close notice went out only in part, so no further frame may follow it.
    private bool _frameCut;

    /// <summary>Whether the send queue has room for one more element (false once the session is closed).</summary>
    /// <remarks>
    /// Every access to the send queue happens under <c>_sendLock</c> after an <see cref="IsClosed"/> check, and the
    /// queue is unmapped under the same lock: a writer racing a close never touches unmapped memory.
    /// </remarks>
    public bool HasQueueRoom
    {
        get
        {
            lock (_sendLock)
            {
                return !IsClosed && _sendQueue.Count < _sendQueue.Capacity;
            }
        }
    }

    /// <summary>
    /// Publishes a written lease: a queue element (or a FallbackData frame when the message is on the heap or the
    /// stream is in fallback towards a shmipc-go/-rs peer). Returns false, leaving the lease untouched, when the queue
    /// is full, or when the message waits for free slices (<see cref="ExhaustionPolicy.Wait"/>,
    /// <see cref="LeaseCore.IsHeap"/> still true): the caller waits (<see cref="WaitForQueueRoomAsync"/> or
    /// <see cref="WaitForSlicesAsync"/>) and tries again.
    /// </summary>
    public bool TrySend(SessionStream stream, LeaseCore core, int token)
    {
        // StreamChannelWriter refuses empty leases: shmipc has no empty message.
        Debug.Assert(core.Length > 0, "empty leases are refused before they reach the session");

        if (core.IsHeap)
        {
            if (!core.NeedsSlices || Options.ExhaustionPolicy != ExhaustionPolicy.Wait || (stream.InFallback && !PeerOrdersFallback))
            {
                SendFallback(stream, core, token);
                return true;
            }

            if (!core.TryMoveToSharedMemory())
            {
                return false;
            }
        }
        else if (stream.InFallback && !PeerOrdersFallback)
        {
            // shmipc's rule towards a Go or Rust peer: once over the socket, always over the socket.
            SendFallback(stream, core, token);
            return true;
        }

        var first = core.CommitWrittenChain();
        var element = new QueueElement(stream.Id, first, stream.SendOrderTag);
        bool wakePeer;
        lock (_sendLock)
        {
            if (IsClosed)
            {
                throw CreateClosedException();
            }

            if (!_sendQueue.TryPut(element))
            {
                Metrics.QueueWasFull();
                return false;
            }

            // docs/PROTOCOL.md §6: after the put, wake the peer only if it is not already working.
            wakePeer = _sendQueue.MarkWorking();
        }

        Metrics.Sent(core.Length);
        core.TryDetach(token);
        if (wakePeer)
        {
            try
            {
                SendPolling();
            }
            catch (ShmipcException)
            {
                // The message is committed (the peer finds it in the queue); a wake-up that cannot be written has
                // closed the session, which the writer's next call and Completion report.
            }
        }

        // Only reachable in fallback when the peer orders fallback frames: the stream is back in shared memory.
        stream.LeaveFallback();
        return true;
    }

    /// <summary>
    /// Sends the close notice of a stream: a close element, or a StreamClose frame when the queue is full or the stream
    /// uses the fallback path.
    /// </summary>
    public void SendClose(SessionStream stream)
    {
        bool queued;
        var wakePeer = false;
        lock (_sendLock)
        {
            if (IsClosed)
            {
                return;
            }

            // A stream that fell back closes over the socket too, behind its fallback frames: a close element could be
            // consumed before the peer has read those frames, and their messages would be dropped (docs/PROTOCOL.md §14.20).
            // A Shmipc.NET peer holds a tagged close element back until the frames before it are delivered.
            queued = (!stream.InFallback || PeerOrdersFallback)
                && _sendQueue.TryPut(new QueueElement(stream.Id, 0, StateClosed | stream.SendOrderTag));
            if (queued)
            {
                wakePeer = _sendQueue.MarkWorking();
            }
        }

        if (queued)
        {
            if (wakePeer)
            {
                SendPolling();
            }

            return;
        }

        // docs/PROTOCOL.md §2.5: the close travels over the socket when the queue is full.
        Span<byte> frame = stackalloc byte[ProtocolConstants.StreamCloseFrameLength];
        StreamCloseFrame.Write(frame, Version, stream.Id);
        WriteSocket(frame);
    }

    /// <summary>Waits until the send queue has room (or the session closes, the timeout passes, the token fires).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WaitForQueueRoomAsync(CancellationToken cancellationToken)
    {
        // A full queue usually has room again within microseconds, as soon as the peer's consumer (spinning, or woken
        // by our wake-up) pops a batch. So spin first, within the polling mode's budget (SpinBackoff): the wait below
        // costs a thread-pool resume after the reactor's next poll, which a sender that outruns its reader would pay
        // every few hundred messages. Never on the reactor thread, which must not hold up the other sessions.
        if (SpinTicks > 0 && !ShmipcReactor.Shared.IsReactorThread)
        {
            var backoff = new SpinBackoff(SpinTicks);
            SpinBackoff.Enter();
            try
            {
                while (!HasQueueRoom && !IsClosed && !cancellationToken.IsCancellationRequested && backoff.TryYield())
                {
                }
            }
            finally
            {
                SpinBackoff.Exit();
            }

            if (HasQueueRoom)
            {
                ThrowIfClosed();
                return;
            }
        }

        // The wait allocates nothing either (a pooled RoomWaiter, a pooled state machine): the reactor, which polls
        // while writers wait, also expires them at their deadline (ExpireWaiters), within its poll interval (<= 50 ms).
        var timeout = Options.WriteTimeout;
        var deadline = timeout == Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!HasQueueRoom)
        {
            ThrowIfClosed();
            cancellationToken.ThrowIfCancellationRequested();
            RoomWaiter waiter;
            lock (_waiters)
            {
                waiter = _waiterPool.TryPop(out var pooled) ? pooled : new RoomWaiter();
                waiter.Reset(deadline);
                _waiters.Add(waiter);
                Interlocked.Increment(ref _waiterCount);
            }

            if (HasQueueRoom || IsClosed)
            {
                ReleaseWaitersIfRoom();
            }

            ShmipcReactor.Shared.WakeForWaiter();
            var registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static w => ((RoomWaiter)w!).TrySignal(RoomWaitOutcome.Canceled), waiter)
                : default;
            RoomWaitOutcome outcome;
            try
            {
                outcome = await waiter.WaitAsync().ConfigureAwait(false);
            }
            finally
            {
                // After Dispose the token's callback has run or never will.
                registration.Dispose();
                lock (_waiters)
                {
                    if (_waiters.Remove(waiter))
                    {
                        Interlocked.Decrement(ref _waiterCount);
                    }

                    _waiterPool.Push(waiter);
                }
            }

            if (outcome == RoomWaitOutcome.Canceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            if (outcome == RoomWaitOutcome.TimedOut && !HasQueueRoom)
            {
                ThrowIfClosed();
                throw new ShmipcException(ShmipcErrorCode.Timeout, $"session {Name}: the IO queue stayed full for {timeout.TotalMilliseconds:0} ms (WriteTimeout).");
            }
        }

        ThrowIfClosed();
    }

    /// <summary>
    /// <see cref="ExhaustionPolicy.Wait"/>: waits until <paramref name="core"/>'s message has moved into free slices.
    /// Slices come back when the peer recycles them, which sends no signal, so this re-checks with a bounded back-off
    /// (from 1 ms to 16 ms), and at once when a local lease of this session releases slices.
    /// </summary>
    /// <param name="core">The message to move; null waits until any slice is free (<c>WaitToWriteAsync</c>).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async ValueTask WaitForSlicesAsync(LeaseCore? core, CancellationToken cancellationToken)
    {
        var timeout = Options.WriteTimeout;
        var started = Stopwatch.GetTimestamp();
        var delay = 1;
        while (core is null ? !HasFreeSlice() : core.NeedsSlices && !core.TryMoveToSharedMemory())
        {
            ThrowIfClosed();
            cancellationToken.ThrowIfCancellationRequested();
            var waited = Stopwatch.GetElapsedTime(started);
            if (timeout != Timeout.InfiniteTimeSpan && waited >= timeout)
            {
                throw new ShmipcException(
                    ShmipcErrorCode.NoMoreBuffer,
                    $"session {Name}: shared memory stayed exhausted for {timeout.TotalMilliseconds:0} ms (WriteTimeout, ExhaustionPolicy.Wait); the message was not sent. The reader must dispose its leases; or enlarge BufferCapacity.");
            }

            Task freed;
            lock (_sliceWaitLock)
            {
                _slicesFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                freed = _slicesFreed.Task;
                _sliceWaiters++;
            }

            try
            {
                var remaining = timeout == Timeout.InfiniteTimeSpan ? delay : Math.Min(delay, Math.Max(1, (int)(timeout - waited).TotalMilliseconds));
                await Task.WhenAny(freed, Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
            }
            finally
            {
                lock (_sliceWaitLock)
                {
                    _sliceWaiters--;
                }
            }

            delay = Math.Min(delay * 2, 16);
        }
    }

    /// <summary>Whether some size class has a slice to hand out (each keeps its last one, as in shmipc).</summary>
    private bool HasFreeSlice()
    {
        var manager = Buffer.Manager;
        for (var i = 0; i < manager.ListCount; i++)
        {
            if (manager.GetList(i).FreeCount > 1)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A local lease of this session returned slices: wake writers waiting for them.</summary>
    public void OnSlicesFreed()
    {
        if (Volatile.Read(ref _sliceWaiters) == 0)
        {
            return;
        }

        TaskCompletionSource? freed;
        lock (_sliceWaitLock)
        {
            freed = _slicesFreed;
            _slicesFreed = null;
        }

        freed?.TrySetResult();
    }

    /// <summary>Wakes every waiting writer if the queue has room or the session is closed; false when it did not.</summary>
    private bool ReleaseWaitersIfRoom()
    {
        if (!HasQueueRoom && !IsClosed)
        {
            return false;
        }

        // Signalled under the lock: continuations run asynchronously, so no user code runs here.
        lock (_waiters)
        {
            foreach (var w in _waiters)
            {
                w.TrySignal(RoomWaitOutcome.Room);
            }

            _waiters.Clear();
            Interlocked.Exchange(ref _waiterCount, 0);
        }

        return true;
    }

    /// <summary>Ends the waits whose WriteTimeout has passed (the reactor's poll of waiting writers).</summary>
    private void ExpireWaiters()
    {
        var now = Stopwatch.GetTimestamp();
        lock (_waiters)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].DeadlineTicks <= now)
                {
                    _waiters[i].TrySignal(RoomWaitOutcome.TimedOut);
                    _waiters.RemoveAt(i);
                    Interlocked.Decrement(ref _waiterCount);
                }
            }
        }
    }

    /// <summary>
    /// Reactor thread, or a reader draining the queue: the peer's queue to us was full and a drain made room. A SyncEvent tells the peer, so a
    /// Shmipc.NET writer waiting for room resumes now rather than on its reactor's next poll (which backs off to 50 ms
    /// while nothing changes). shmipc-go and shmipc-rs take it as a spurious wake-up: an empty drain (docs/PROTOCOL.md §6).
    /// Never blocks the reactor: skipped while another thread writes the socket or the socket buffer is full; the
    /// peer's poll is the safety net.
    /// </summary>
    private void SignalRoom()
    {
        if (TryWriteSocketWithoutWaiting(_pollingFrame, finishCutFrame: true))
        {
            Metrics.SyncSent();
        }
    }

    /// <summary>Wakes the peer after a put whose working-flag CAS succeeded (docs/PROTOCOL.md §6).</summary>
    private void SendPolling()
    {
        WriteSocket(_pollingFrame, default, messageFrame: false);
        Metrics.SyncSent();
    }

    /// <summary>
    /// Sends a message as a FallbackData frame: the header, then the lease's own bytes (slices or heap array) with a
    /// gathered send, without copying them into a frame buffer.
    /// </summary>
    private void SendFallback(SessionStream stream, LeaseCore core, int token)
    {
        var payloadLength = core.Length;
        if ((long)payloadLength + ProtocolConstants.FallbackDataHeaderLength > Options.MaxFrameLength)
        {
            // Refused before anything is sent (the stream does not even enter fallback): the peer would close the
            // session on such a frame, and a message cannot be split (each FallbackData frame is one message).
            throw new ShmipcException(
                ShmipcErrorCode.MessageTooLarge,
                $"session {Name}, stream {stream.Id}: a message of {payloadLength} bytes does not fit in shared memory and is too large for the socket path " +
                $"(at most {Options.MaxFrameLength - ProtocolConstants.FallbackDataHeaderLength} bytes with MaxFrameLength {Options.MaxFrameLength}); the message was not sent.");
        }

        stream.EnterFallback();
        AnnounceOrderedFallback();
        Span<byte> header = stackalloc byte[ProtocolConstants.FallbackDataHeaderLength];
        FallbackDataHeader.WriteHeader(header, Version, stream.Id, 0, payloadLength);
        WriteSocket(header, core.GetSequence(), messageFrame: true);
        stream.FallbackSent();
        Metrics.FallbackWritten(payloadLength);
        core.TryRelease(token);
    }

    /// <summary>
    /// Tells the peer, once per session and before the first fallback frame either side sends, that this side delivers
    /// fallback frames and order-tagged elements in write order (a Polling frame with
    /// <see cref="ProtocolConstants.OrderedFallbackVersionBit"/>; Go and Rust take it for an ordinary wake-up).
    /// </summary>
    private void AnnounceOrderedFallback()
    {
        if (Volatile.Read(ref _announced) != 0 || Interlocked.Exchange(ref _announced, 1) != 0)
        {
            return;
        }

        WriteSocket(_announceFrame);
    }

    /// <summary>Writes a header-only or close frame (see <see cref="WriteSocket(ReadOnlySpan{byte}, in ReadOnlySequence{byte}, bool)"/>).</summary>
    private void WriteSocket(ReadOnlySpan<byte> frame) => WriteSocket(frame, default, messageFrame: false);

    /// <summary>Writes one whole frame, <paramref name="header"/> then <paramref name="payload"/>, within the write timeout.</summary>
    /// <param name="header">The frame's header (or the whole frame).</param>
    /// <param name="payload">The frame's body, sent from where it lies.</param>
    /// <param name="messageFrame">
    /// True for a message the caller still owns (FallbackData): if the socket took none of it before the write
    /// timeout, the session stays open and the caller gets <see cref="ShmipcErrorCode.Timeout"/> and may retry.
    /// </param>
    /// <exception cref="ShmipcException">
    /// <see cref="ShmipcErrorCode.Timeout"/>: the peer read nothing for the write timeout (the session is closed if
    /// the frame was cut or is not a message frame). Otherwise the session is closed, and this is why.
    /// </exception>
    private void WriteSocket(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> payload, bool messageFrame)
    {
        lock (_socketLock)
        {
            ThrowIfClosed();
            long sent = 0;
            try
            {
                Socket.SendAll(header, payload, Deadline.FromTimeout(Options.WriteTimeout), ref sent);
            }
            catch (Exception e) when (e is ShmipcException or ObjectDisposedException)
            {
                // Closed while we were sending (Close shuts the socket down first, so a stuck send wakes with
                // EPIPE, or the socket is already disposed): report the session's close, not the symptom.
                if (IsClosed)
                {
                    throw CreateClosedException();
                }

                if (e is ShmipcException { ErrorCode: ShmipcErrorCode.Timeout })
                {
                    var ms = Options.WriteTimeout.TotalMilliseconds;
                    if (messageFrame && sent == 0)
                    {
                        throw new ShmipcException(ShmipcErrorCode.Timeout, $"session {Name}: the peer read nothing from the socket for {ms:0} ms (WriteTimeout); the message was not sent.", e);
                    }

                    // A cut frame (or a lost wake-up / close notice) leaves the connection unusable.
                    e = new ShmipcException(ShmipcErrorCode.Timeout, $"session {Name}: the peer read nothing from the socket for {ms:0} ms (WriteTimeout) in the middle of a frame; the session is closed.", e);
                }

                var reason = e as ShmipcException ?? new ShmipcException(ShmipcErrorCode.PeerClosed, $"session {Name}: the socket was closed.", e);
                Close(reason);
                throw reason;
            }
        }
    }

    /// <summary>
    /// Writes a whole frame if the socket lock is free and the socket takes the frame at once; never waits for the lock
    /// (a writer holding it may be stuck behind a peer that stopped reading). Used by close (close notices) and by the
    /// reactor (<see cref="SignalRoom"/>).
    /// </summary>
    /// <param name="frame">The frame.</param>
    /// <param name="finishCutFrame">
    /// When the socket took only part of the frame: true sends the rest (bounded by the write timeout; rare for a
    /// header-sized frame), false marks the connection cut so that nothing else follows (close only).
    /// </param>
    /// <returns>True when the whole frame went out.</returns>
    private bool TryWriteSocketWithoutWaiting(ReadOnlySpan<byte> frame, bool finishCutFrame = false)
    {
        if (!Monitor.TryEnter(_socketLock))
        {
            return false;
        }

        try
        {
            if (IsClosed || _frameCut)
            {
                return false;
            }

            var n = Socket.TrySend(frame);
            if (n > 0 && n < frame.Length)
            {
                if (finishCutFrame)
                {
                    Socket.SendAll(frame[n..], Options.WriteTimeout);
                    return true;
                }

                // The rest of the frame will never follow: nothing else may be written behind it.
                _frameCut = true;
            }

            return n == frame.Length;
        }
        catch (Exception e) when (e is ShmipcException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            Monitor.Exit(_socketLock);
        }
    }

    /// <summary>
    /// Close only: the close notices of the streams still open, as far as they go without waiting (queue elements
    /// need no socket; a StreamClose frame or the wake-up only if the socket lock is free and the socket has room).
    /// </summary>
    private void SendCloseNoticesWithoutWaiting()
    {
        var wakePeer = false;
        Span<byte> frame = stackalloc byte[ProtocolConstants.StreamCloseFrameLength];
        foreach (var (_, stream) in _streams)
        {
            if (stream.IsRemoteClosed || !stream.TryMarkClosedBySession())
            {
                continue;
            }

            bool queued;
            lock (_sendLock)
            {
                if (IsClosed)
                {
                    return;
                }

                // Same ordering rule as SendClose: a stream that fell back closes behind its fallback frames.
                queued = !stream.InFallback && _sendQueue.TryPut(new QueueElement(stream.Id, 0, StateClosed));
                if (queued)
                {
                    wakePeer |= _sendQueue.MarkWorking();
                }
            }

            if (!queued)
            {
                StreamCloseFrame.Write(frame, Version, stream.Id);
                if (!TryWriteSocketWithoutWaiting(frame))
                {
                    // The socket is busy or full: the peer learns of the close from the EOF that follows.
                    break;
                }
            }
        }

        if (wakePeer)
        {
            TryWriteSocketWithoutWaiting(_pollingFrame);
        }
    }
}
