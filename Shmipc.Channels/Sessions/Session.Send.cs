using System.Buffers;
using System.Diagnostics;
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
    private readonly List<TaskCompletionSource> _waiters = [];
    private int _waiterCount;

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
        if (core.Length == 0)
        {
            // An empty message has no representation in shmipc (a Flush of nothing sends nothing).
            core.TryRelease(token);
            return true;
        }

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

            // PROTOCOL.md §6: after the put, wake the peer only if it is not already working.
            wakePeer = _sendQueue.MarkWorking();
        }

        core.TryDetach(token);
        if (wakePeer)
        {
            SendPolling();
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
            // consumed before the peer has read those frames, and their messages would be dropped (PROTOCOL.md §14.20).
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

        // PROTOCOL.md §2.5: the close travels over the socket when the queue is full.
        Span<byte> frame = stackalloc byte[ProtocolConstants.StreamCloseFrameLength];
        StreamCloseFrame.Write(frame, Version, stream.Id);
        WriteSocket(frame);
    }

    /// <summary>Waits until the send queue has room (or the session closes, the timeout passes, the token fires).</summary>
    public async ValueTask WaitForQueueRoomAsync(CancellationToken cancellationToken)
    {
        var timeout = Options.WriteTimeout;
        using var timeoutCts = timeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(timeout);
        using var linked = timeoutCts is null
            ? null
            : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        var token = linked?.Token ?? cancellationToken;
        while (!HasQueueRoom)
        {
            ThrowIfClosed();
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiters)
            {
                _waiters.Add(waiter);
                Interlocked.Increment(ref _waiterCount);
            }

            if (HasQueueRoom || IsClosed)
            {
                ReleaseWaitersIfRoom();
            }

            ShmipcReactor.Shared.Wake();
            try
            {
                await waiter.Task.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeoutCts is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
            {
                throw new ShmipcException(ShmipcErrorCode.Timeout, $"session {Name}: the IO queue stayed full for {timeout.TotalMilliseconds:0} ms (WriteTimeout).");
            }
            finally
            {
                lock (_waiters)
                {
                    if (_waiters.Remove(waiter))
                    {
                        Interlocked.Decrement(ref _waiterCount);
                    }
                }
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

    private void ReleaseWaitersIfRoom()
    {
        if (!HasQueueRoom && !IsClosed)
        {
            return;
        }

        TaskCompletionSource[] ready;
        lock (_waiters)
        {
            ready = [.. _waiters];
            _waiters.Clear();
            Interlocked.Exchange(ref _waiterCount, 0);
        }

        foreach (var w in ready)
        {
            w.TrySetResult();
        }
    }

    /// <summary>Wakes the peer after a put whose working-flag CAS succeeded (PROTOCOL.md §6).</summary>
    private void SendPolling()
    {
        WriteSocket(_pollingFrame);
        Metrics.SyncSent();
    }

    private void SendFallback(SessionStream stream, LeaseCore core, int token)
    {
        stream.EnterFallback();
        AnnounceOrderedFallback();
        var payloadLength = core.Length;
        var frameLength = FallbackDataHeader.GetFrameLength(payloadLength);
        var frame = ArrayPool<byte>.Shared.Rent(frameLength);
        try
        {
            FallbackDataHeader.WriteHeader(frame, Version, stream.Id, 0, payloadLength);
            core.GetSequence().CopyTo(frame.AsSpan(ProtocolConstants.FallbackDataHeaderLength));
            WriteSocket(frame.AsSpan(0, frameLength));
            stream.FallbackSent();
            Metrics.FallbackWritten();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }

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

    private void WriteSocket(ReadOnlySpan<byte> frame)
    {
        lock (_socketLock)
        {
            ThrowIfClosed();
            try
            {
                Socket.SendAll(frame, Options.WriteTimeout);
            }
            catch (ShmipcException e)
            {
                Close(e);
                throw;
            }
        }
    }
}
