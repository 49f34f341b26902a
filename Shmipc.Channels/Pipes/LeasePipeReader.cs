using System.Buffers;
using System.IO.Pipelines;

namespace Shmipc.Channels.Pipes;

/// <summary>
/// <see cref="ShmipcDuplexPipe.Input"/>: the peer's messages as one byte stream. A pump copies each arriving lease
/// into a <see cref="Pipe"/> and disposes it at once, so the peer's slices come back without waiting for the reader.
/// </summary>
// Design: the pump is the pipe's only writer and the stream's only reader (Input). It ends when the peer closes the
// stream (the pipe completes cleanly), when the session fails (the pipe completes with the ShmipcException, which
// ReadAsync then throws), or when the user completes this reader (_stop is cancelled; the pipe's own FlushResult
// would only report it at the next flush). PumpCompletion never faults: ShmipcDuplexPipe awaits it before it disposes
// the stream, so the stream's channel is never drained while the pump still reads it. Every other call is delegated
// to the inner Pipe, which provides the PipeReader contract (AdvanceTo, CancelPendingRead, TryRead).
// Both schedulers are inline: the pump already runs on a thread of its own (the pool), so a waiting reader resumes on
// it directly instead of through one more thread-pool hop per message; a reader that holds the thread only delays its
// own stream's input.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "_stop has no timer and no linked tokens, so it holds nothing to release; disposing it would race Complete.")]
internal sealed class LeasePipeReader : PipeReader
{
    /// <summary>Unread bytes the pump buffers before it waits for the reader (and so stops taking messages).</summary>
    private const int PauseBytes = 1024 * 1024;

    private readonly ShmipcStream _stream;
    private readonly ShmipcDuplexPipe _owner;
    private readonly Pipe _pipe = new(new PipeOptions(
        pauseWriterThreshold: PauseBytes,
        resumeWriterThreshold: PauseBytes / 2,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        minimumSegmentSize: 16 * 1024,
        useSynchronizationContext: false));

    private readonly CancellationTokenSource _stop = new();
    private int _completed;
    private Exception? _abortReason;

    public LeasePipeReader(ShmipcStream stream, ShmipcDuplexPipe owner)
    {
        _stream = stream;
        _owner = owner;
        PumpCompletion = PumpAsync();
    }

    /// <summary>Completes when the pump no longer touches the stream.</summary>
    public Task PumpCompletion { get; }

    /// <inheritdoc />
    public override bool TryRead(out ReadResult result) => _pipe.Reader.TryRead(out result);

    /// <inheritdoc />
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => _pipe.Reader.ReadAsync(cancellationToken);

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed) => _pipe.Reader.AdvanceTo(consumed);

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _pipe.Reader.AdvanceTo(consumed, examined);

    /// <inheritdoc />
    public override void CancelPendingRead() => _pipe.Reader.CancelPendingRead();

    /// <inheritdoc />
    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        _pipe.Reader.Complete(exception);
        _stop.Cancel();
        _owner.SideCompleted();
    }

    /// <summary>Ends the input now; readers see <paramref name="reason"/> (or a plain end when null).</summary>
    public void Abort(Exception? reason)
    {
        Volatile.Write(ref _abortReason, reason);
        try
        {
            _stop.Cancel();
        }
        catch (AggregateException)
        {
            // A continuation of the pump failed inline; the pump reports its own errors.
        }
    }

    private async Task PumpAsync()
    {
        // Start on the thread pool: the caller of AsDuplexPipe must not run the first read inline.
        await Task.Yield();
        var writer = _pipe.Writer;
        var input = _stream.Input;
        Exception? error = null;
        try
        {
            while (await input.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (input.TryRead(out var lease))
                {
                    using (lease)
                    {
                        foreach (var segment in lease.Data)
                        {
                            writer.Write(segment.Span);
                        }
                    }

                    if (writer.UnflushedBytes >= PauseBytes / 2 && (await writer.FlushAsync(_stop.Token).ConfigureAwait(false)).IsCompleted)
                    {
                        return;
                    }
                }

                if ((await writer.FlushAsync(_stop.Token).ConfigureAwait(false)).IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The reader was completed (nobody reads any more) or the pipe was aborted.
            error = Volatile.Read(ref _abortReason);
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }
}
