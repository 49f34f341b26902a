using System.Buffers;
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
    /// stream already fell back). Returns false, leaving the lease untouched, when the queue is full.
    /// </summary>
    public bool TrySend(SessionStream stream, LeaseCore core, int token)
    {
        if (core.Length == 0)
        {
            // An empty message has no representation in shmipc (a Flush of nothing sends nothing).
            core.TryRelease(token);
            return true;
        }

        if (stream.InFallback || core.IsHeap)
        {
            SendFallback(stream, core, token);
            return true;
        }

        var first = core.CommitWrittenChain();
        var element = new QueueElement(stream.Id, first, 0);
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
            queued = !stream.InFallback && _sendQueue.TryPut(new QueueElement(stream.Id, 0, StateClosed));
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

            ShmipcReactor.Shared.WakeForWaiter();
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

    /// <summary>
    /// Reactor thread: the peer's queue to us was full and a drain made room. A SyncEvent tells the peer, so a
    /// Shmipc.NET writer waiting for room resumes now rather than on its reactor's next poll (which backs off to 50 ms
    /// while nothing changes). shmipc-go and shmipc-rs take it as a spurious wake-up: an empty drain (PROTOCOL.md §6).
    /// Never blocks the reactor: skipped while another thread writes the socket or the socket buffer is full; the
    /// peer's poll is the safety net.
    /// </summary>
    private void SignalRoom()
    {
        if (!Monitor.TryEnter(_socketLock))
        {
            return;
        }

        try
        {
            if (IsClosed)
            {
                return;
            }

            var sent = Socket.TrySend(_pollingFrame);
            if (sent > 0 && sent < _pollingFrame.Length)
            {
                // A frame is never left half-written (rare: an 8-byte send rarely splits).
                Socket.SendAll(_pollingFrame.AsSpan(sent), Options.WriteTimeout);
            }

            if (sent > 0)
            {
                Metrics.SyncSent();
            }
        }
        catch (ShmipcException)
        {
            // A broken connection: the receive side sees it and closes the session.
        }
        finally
        {
            Monitor.Exit(_socketLock);
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
        var frameLength = FallbackDataHeader.GetFrameLength(payloadLength);
        var frame = ArrayPool<byte>.Shared.Rent(frameLength);
        try
        {
            FallbackDataHeader.WriteHeader(frame, Version, stream.Id, 0, payloadLength);
            core.GetSequence().CopyTo(frame.AsSpan(ProtocolConstants.FallbackDataHeaderLength));
            WriteSocket(frame.AsSpan(0, frameLength));
            Metrics.FallbackWritten();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }

        core.TryRelease(token);
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
