using System.Buffers;
using System.IO.Pipelines;
using Shmipc.Channels;

namespace Shmipc.AspNetCore.Client;

/// <summary>
/// A <see cref="ShmipcDuplexPipe"/> as the <see cref="System.IO.Stream"/> SocketsHttpHandler wants from a
/// ConnectCallback. Every write is copied once into shared memory and published as one message (SocketsHttpHandler
/// buffers frames itself and writes whole batches, as to a NetworkStream, which does not buffer either).
/// </summary>
// Design: SocketsHttpHandler reads on one task and writes on another, never two reads or two writes at once, which is
// exactly the PipeReader/PipeWriter contract.
internal sealed class DuplexPipeStream(ShmipcDuplexPipe pipe) : Stream
{
    private int _disposed;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            ReadResult result;
            try
            {
                result = await pipe.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException) when (Volatile.Read(ref _disposed) != 0)
            {
                return 0;
            }

            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                var n = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, n).CopyTo(buffer.Span);
                pipe.Input.AdvanceTo(data.GetPosition(n));
                return n;
            }

            pipe.Input.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return 0;
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        pipe.Output.Write(buffer);
        CheckAsync(pipe.Output.FlushAsync()).AsTask().GetAwaiter().GetResult();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        pipe.Output.Write(buffer.Span);
        return CheckAsync(pipe.Output.FlushAsync(cancellationToken));
    }

    public override void Flush()
    {
        // Writes are published as they are made; nothing is buffered here.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static ValueTask CheckAsync(ValueTask<FlushResult> flush)
    {
        if (flush.IsCompletedSuccessfully)
        {
            return flush.Result.IsCompleted ? ValueTask.FromException(ClosedByServer()) : default;
        }

        return CheckSlowAsync(flush);
    }

    private static async ValueTask CheckSlowAsync(ValueTask<FlushResult> flush)
    {
        if ((await flush.ConfigureAwait(false)).IsCompleted)
        {
            throw ClosedByServer();
        }
    }

    private static IOException ClosedByServer() => new("The shmipc stream was closed by the server.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await pipe.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Synchronous callers: complete both sides without waiting; the stream is released when they are.
            pipe.Abort();
            pipe.Output.Complete();
            pipe.Input.Complete();
        }

        base.Dispose(disposing);
    }
}
