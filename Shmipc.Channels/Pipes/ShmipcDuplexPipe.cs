using System.IO.Pipelines;
using Shmipc.Channels.Pipes;

namespace Shmipc.Channels;

/// <summary>
/// A <see cref="ShmipcStream"/> as an <see cref="IDuplexPipe"/> (from <see cref="ShmipcPipeExtensions.AsDuplexPipe"/>).
/// </summary>
/// <remarks>
/// <para><b>Output.</b> <see cref="PipeWriter.GetMemory"/> and <see cref="PipeWriter.GetSpan"/> return memory inside
/// a lease of shared memory, so what you write is not copied again. Each <see cref="PipeWriter.FlushAsync"/> publishes
/// the bytes written since the previous flush as one shmipc message (nothing is sent for an empty flush); a long run of
/// writes without a flush may be published early in pieces of at least 256 KiB so a large body streams out while it
/// is being written. <see cref="PipeWriter.CancelPendingFlush"/> makes a flush that waits for room return
/// <see cref="FlushResult.IsCanceled"/>; the unsent bytes stay buffered for the next flush. When the peer has closed
/// the stream, a flush returns <see cref="FlushResult.IsCompleted"/> and the bytes are dropped; when the session fails
/// it throws the <see cref="ShmipcException"/> that says why. Completing the writer sends what is buffered (unless
/// completed with an exception, which drops it) and closes the stream towards the peer: shmipc has no error frame, so
/// the peer sees the end of its input either way.</para>
/// <para><b>Input.</b> Messages are copied once from shared memory into the pipe's buffers as they arrive (their
/// slices go back to the peer at once) and read as one continuous byte stream, message boundaries not kept. The
/// reader completes when the peer closes the stream; when the session fails, <see cref="PipeReader.ReadAsync"/>
/// throws the <see cref="ShmipcException"/>. Completing the reader stops reading; what arrives afterwards is
/// recycled unread.</para>
/// <para>The stream is disposed once both <see cref="Input"/> and <see cref="Output"/> are completed, or by
/// <see cref="DisposeAsync"/>.</para>
/// </remarks>
public sealed class ShmipcDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly LeasePipeReader _input;
    private readonly LeasePipeWriter _output;
    private int _sidesCompleted;
    private int _disposed;

    internal ShmipcDuplexPipe(ShmipcStream stream)
    {
        Stream = stream;
        _output = new LeasePipeWriter(stream, this);
        _input = new LeasePipeReader(stream, this);
    }

    /// <summary>The shmipc stream under the pipe.</summary>
    public ShmipcStream Stream { get; }

    /// <summary>The peer's bytes.</summary>
    public PipeReader Input => _input;

    /// <summary>Bytes to the peer, written in place into shared memory.</summary>
    public PipeWriter Output => _output;

    /// <summary>
    /// Ends the connection now, in both directions: the stream is closed towards the peer, a pending or later
    /// <see cref="PipeReader.ReadAsync"/> ends (throwing <paramref name="reason"/> when given, else completed), and
    /// later flushes report <see cref="FlushResult.IsCompleted"/>. Both sides must still be completed (or the pipe
    /// disposed) to release the stream. What the peer had sent and was not read yet is recycled.
    /// </summary>
    /// <param name="reason">What readers of <see cref="Input"/> see, or null for a plain end of input.</param>
    public void Abort(Exception? reason = null)
    {
        _output.Abort();
        _input.Abort(reason);
        Stream.CloseOutput();
    }

    /// <summary>Completes both sides (what was written and not flushed is sent) and disposes the stream.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }
        catch (ShmipcException)
        {
            // The session failed: the buffered bytes cannot be sent, and there is nothing left to close.
        }

        await _input.CompleteAsync().ConfigureAwait(false);
        await DisposeStreamAsync().ConfigureAwait(false);
    }

    /// <summary>Called once by each side when it is completed; the second call releases the stream.</summary>
    internal void SideCompleted()
    {
        if (Interlocked.Increment(ref _sidesCompleted) == 2)
        {
            _ = DisposeStreamAsync();
        }
    }

    private async Task DisposeStreamAsync()
    {
        // The input pump must be out of the stream's channel before Dispose drains it.
        await _input.PumpCompletion.ConfigureAwait(false);
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Stream.Dispose();
        }
    }
}
