using System.IO.Pipelines;
using Shmipc.Channels;

namespace Shmipc.AspNetCore.Server;

/// <summary>
/// The output Kestrel writes: the stream's <see cref="ShmipcDuplexPipe.Output"/>, with a failed session reported the
/// way the socket transport reports a socket that can no longer be written: the flush completes with
/// <see cref="FlushResult.IsCompleted"/> and the connection is closed.
/// </summary>
// Design: single writer (Kestrel's connection output loop), as every PipeWriter. Once the session has failed, a
// flush throws its ShmipcException; Kestrel would log it as an unexpected error (and, from the request loop's
// cleanup, at Critical level) although a client that went away is routine. The first such failure calls onFailed
// (the connection signals ConnectionClosed, so Kestrel aborts its requests) and sets _failed; from then on writes go to
// a scratch buffer that is never sent and every flush reports IsCompleted, as a Pipe does once its reader completed.
// Rent can fail the same way, so GetMemory/GetSpan fall back to the scratch buffer too.
internal sealed class ConnectionOutput(PipeWriter inner, Action<ShmipcException> onFailed) : PipeWriter
{
    private static readonly ValueTask<FlushResult> s_completed = new(new FlushResult(isCanceled: false, isCompleted: true));

    private byte[]? _scratch;
    private bool _failed;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _failed ? 0 : inner.UnflushedBytes;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (!_failed)
        {
            try
            {
                return inner.GetMemory(sizeHint);
            }
            catch (ShmipcException e)
            {
                Fail(e);
            }
        }

        return Scratch(sizeHint);
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        if (!_failed)
        {
            inner.Advance(bytes);
        }
    }

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_failed)
        {
            return s_completed;
        }

        try
        {
            var flush = inner.FlushAsync(cancellationToken);
            return flush.IsCompletedSuccessfully ? flush : AwaitAsync(flush);
        }
        catch (ShmipcException e)
        {
            Fail(e);
            return s_completed;
        }
    }

    public override void Complete(Exception? exception = null)
    {
        try
        {
            inner.Complete(_failed ? null : exception);
        }
        catch (ShmipcException e)
        {
            Fail(e);
        }
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        try
        {
            await inner.CompleteAsync(_failed ? null : exception).ConfigureAwait(false);
        }
        catch (ShmipcException e)
        {
            Fail(e);
        }
    }

    private async ValueTask<FlushResult> AwaitAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            return await flush.ConfigureAwait(false);
        }
        catch (ShmipcException e)
        {
            Fail(e);
            return new FlushResult(isCanceled: false, isCompleted: true);
        }
    }

    private void Fail(ShmipcException cause)
    {
        if (!_failed)
        {
            _failed = true;
            onFailed(cause);
        }
    }

    private Memory<byte> Scratch(int sizeHint)
    {
        var size = Math.Max(sizeHint, 4096);
        if (_scratch is null || _scratch.Length < size)
        {
            _scratch = new byte[size];
        }

        return _scratch;
    }
}
