using System.IO.Pipelines;
using System.Threading.Channels;

namespace Shmipc.Channels.Pipes;

/// <summary>
/// <see cref="ShmipcDuplexPipe.Output"/>: a <see cref="PipeWriter"/> whose buffers are leases of shared memory; a
/// flush publishes the pending lease as one message.
/// </summary>
// Design: single writer, as every PipeWriter (GetMemory/Advance/FlushAsync/Complete are never called concurrently by
// the one producer). The only cross-thread entry is CancelPendingFlush: it sets _cancelNext and cancels the CTS of a
// flush in progress (_flushCts, published with Volatile). A flush that sees the flag, or is cancelled through it,
// clears the flag and returns IsCanceled with the lease still pending. _pending is the lease being filled; it is
// default when nothing is buffered. A lease handed to Output belongs to the stream, so _pending is cleared only
// after a successful write.
internal sealed class LeasePipeWriter(ShmipcStream stream, ShmipcDuplexPipe owner) : PipeWriter
{
    /// <summary>Past this many buffered bytes GetMemory/GetSpan try to publish the pending lease before handing out more.</summary>
    internal const int EarlySendBytes = 256 * 1024;

    private ShmLease _pending;
    private bool _completed;
    private volatile bool _peerClosed;
    private int _cancelNext;
    private CancellationTokenSource? _flushCts;

    /// <inheritdoc />
    public override bool CanGetUnflushedBytes => true;

    /// <inheritdoc />
    public override long UnflushedBytes => _pending.IsValid ? _pending.Length : 0;

    /// <inheritdoc />
    public override Memory<byte> GetMemory(int sizeHint = 0) => Lease().GetMemory(sizeHint);

    /// <inheritdoc />
    public override Span<byte> GetSpan(int sizeHint = 0) => Lease().GetSpan(sizeHint);

    /// <inheritdoc />
    public override void Advance(int bytes)
    {
        ThrowIfCompleted();
        if (!_pending.IsValid)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(bytes, 0);
            return;
        }

        _pending.Advance(bytes);
    }

    /// <summary>The connection was aborted locally: behave as if the peer had closed the stream.</summary>
    public void Abort() => _peerClosed = true;

    /// <inheritdoc />
    public override void CancelPendingFlush()
    {
        Volatile.Write(ref _cancelNext, 1);
        try
        {
            Volatile.Read(ref _flushCts)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The flush finished meanwhile; the flag cancels the next one, as a Pipe does.
        }
    }

    /// <inheritdoc />
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (Interlocked.Exchange(ref _cancelNext, 0) != 0)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: false));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FlushResult>(cancellationToken);
        }

        if (_peerClosed)
        {
            DropPending();
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
        }

        if (!_pending.IsValid || _pending.Length == 0)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
        }

        try
        {
            if (stream.Output.TryWrite(_pending))
            {
                _pending = default;
                return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
            }
        }
        catch (ShmipcException e)
        {
            return ValueTask.FromException<FlushResult>(e);
        }

        return FlushSlowAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (exception is null && _pending.IsValid && _pending.Length > 0 && !_peerClosed)
        {
            // Synchronous: only what fits now is sent. CompleteAsync waits for room instead.
            try
            {
                if (stream.Output.TryWrite(_pending))
                {
                    _pending = default;
                }
            }
            catch (ShmipcException)
            {
                // The session failed; its Completion says why and the peer sees the end of the connection.
            }
        }

        Finish();
    }

    /// <inheritdoc />
    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        try
        {
            if (exception is null && _pending.IsValid && _pending.Length > 0 && !_peerClosed)
            {
                Interlocked.Exchange(ref _cancelNext, 0);
                await FlushSlowAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _completed = true;
            Finish();
        }
    }

    private ShmLease Lease()
    {
        ThrowIfCompleted();
        if (!_pending.IsValid)
        {
            _pending = stream.Rent();
        }
        else if (_pending.Length >= EarlySendBytes && !_peerClosed)
        {
            // A long body written without flushes streams out in pieces rather than growing one huge message.
            try
            {
                if (stream.Output.TryWrite(_pending))
                {
                    _pending = stream.Rent();
                }
            }
            catch (ShmipcException)
            {
                // Reported by the next flush, which finds the session closed.
            }
        }

        return _pending;
    }

    private async ValueTask<FlushResult> FlushSlowAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Volatile.Write(ref _flushCts, cts);
        try
        {
            if (Volatile.Read(ref _cancelNext) != 0)
            {
                cts.Cancel();
            }

            await stream.Output.WriteAsync(_pending, cts.Token).ConfigureAwait(false);
            _pending = default;
            return new FlushResult(isCanceled: false, isCompleted: false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && cts.IsCancellationRequested)
        {
            // CancelPendingFlush: the bytes stay buffered for the next flush.
            Interlocked.Exchange(ref _cancelNext, 0);
            return new FlushResult(isCanceled: true, isCompleted: false);
        }
        catch (ChannelClosedException e)
        {
            if (e.InnerException is ShmipcException { ErrorCode: ShmipcErrorCode.StreamClosed } or null)
            {
                // The peer closed the stream: it reads no more, as a completed PipeReader.
                _peerClosed = true;
                DropPending();
                return new FlushResult(isCanceled: false, isCompleted: true);
            }

            throw e.InnerException;
        }
        finally
        {
            Volatile.Write(ref _flushCts, null);
        }
    }

    private void Finish()
    {
        DropPending();
        stream.CloseOutput();
        owner.SideCompleted();
    }

    private void DropPending()
    {
        _pending.Dispose();
        _pending = default;
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
    }
}
