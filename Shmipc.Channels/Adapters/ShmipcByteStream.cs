using System.Buffers;
using System.Threading.Channels;

namespace Shmipc.Channels.Adapters;

/// <summary>
/// <see cref="ShmipcStreamIOExtensions.AsStream"/>: the messages of a <see cref="ShmipcStream"/> as a byte stream.
/// </summary>
// Design:
// - Read side: _current is the message being read and _offset how much of it was read. Only reads touch them, and the
//   Stream contract allows one read at a time; Dispose may run alongside a read, so every access to the lease (the
//   copy out of shared memory, the Dispose that returns its slices) happens under _readGate. Awaits happen outside
//   the lock: a read waits with WaitToReadAsync (which consumes nothing, so a cancelled read loses no message) and
//   only then takes what arrived.
// - Write side: stateless. Each write (at most MaxMessageBytes at a time) rents a lease, copies the caller's bytes into
//   its slices and publishes it; a lease that was not published is disposed by the write that rented it.
// - A read and a write may run at the same time (duplex): they share nothing but _disposed.
internal sealed class ShmipcByteStream : Stream
{
    /// <summary>Writes are split into messages of at most this size, so one large write neither needs all of shared
    /// memory at once nor holds back the peer's reader until its last byte is written.</summary>
    internal const int MaxMessageBytes = 1024 * 1024;

    private readonly ShmipcStream _stream;
    private readonly ChannelReader<ShmLease> _input;
    private readonly bool _leaveOpen;
    private readonly Lock _readGate = new();
    private ShmLease _current;
    private long _offset;
    private int _disposed;

    public ShmipcByteStream(ShmipcStream stream, bool leaveOpen)
    {
        _stream = stream;
        _input = stream.Input;
        _leaveOpen = leaveOpen;
    }

    public override bool CanRead => !IsDisposed;

    public override bool CanWrite => !IsDisposed;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException("A shmipc stream has no length.");

    public override long Position
    {
        get => throw new NotSupportedException("A shmipc stream has no position.");
        set => throw new NotSupportedException("A shmipc stream has no position.");
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A shmipc stream cannot seek.");

    public override void SetLength(long value) => throw new NotSupportedException("A shmipc stream has no length.");

    // Writes are published when they return: nothing is buffered here.
    public override void Flush() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        return IsDisposed ? Task.FromException(new ObjectDisposedException(GetType().Name)) : Task.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            var n = TryReadAvailable(buffer);
            if (n >= 0)
            {
                return n;
            }

            var wait = _input.WaitToReadAsync(CancellationToken.None);
            if (!(wait.IsCompletedSuccessfully ? wait.Result : Await(wait)))
            {
                return 0;
            }
        }

        bool Await(ValueTask<bool> pending)
        {
            try
            {
                return pending.AsTask().GetAwaiter().GetResult();
            }
            catch (ShmipcException e)
            {
                throw Wrap(e);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        var n = TryReadAvailable(buffer.Span);
        return n >= 0 ? new ValueTask<int>(n) : ReadSlowAsync(buffer, cancellationToken);
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var n = Math.Min(buffer.Length, MaxMessageBytes);
            var publish = PublishAsync(Fill(buffer[..n]), CancellationToken.None);
            if (!publish.IsCompletedSuccessfully)
            {
                publish.AsTask().GetAwaiter().GetResult();
            }

            buffer = buffer[n..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (buffer.Length <= MaxMessageBytes)
        {
            return buffer.IsEmpty ? WriteEmpty() : PublishAsync(Fill(buffer.Span), cancellationToken);
        }

        return WriteChunksAsync(buffer, cancellationToken);
    }

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ValidateCopyToArguments(destination, bufferSize);

        // Hands the destination the message's bytes where they lie in shared memory: no intermediate buffer.
        var buffer = Array.Empty<byte>();
        while (true)
        {
            if (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) == 0 && !HasCurrent())
            {
                return;
            }

            ShmLease lease;
            long offset;
            lock (_readGate)
            {
                ObjectDisposedException.ThrowIf(IsDisposed, this);
                lease = _current;
                offset = _offset;
                _current = default;
                _offset = 0;
            }

            using (lease)
            {
                foreach (var segment in lease.Data.Slice(offset))
                {
                    await destination.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_readGate)
        {
            _current.Dispose();
            _current = default;
        }

        if (!_leaveOpen)
        {
            _stream.Dispose();
        }

        base.Dispose(disposing);
    }

    private static IOException Wrap(ShmipcException e) => new($"shmipc: {e.Message}", e);

    private bool HasCurrent()
    {
        lock (_readGate)
        {
            return _current.IsValid;
        }
    }

    /// <summary>
    /// Copies what is already there into <paramref name="buffer"/>: the rest of the current message, then further
    /// messages that arrived. Returns the count, or -1 when nothing is there (the caller waits). A zero-byte read
    /// returns 0 once a message is there.
    /// </summary>
    private int TryReadAvailable(Span<byte> buffer)
    {
        lock (_readGate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            if (buffer.IsEmpty)
            {
                return _current.IsValid || TryTakeNext() ? 0 : -1;
            }

            var copied = 0;
            while (copied < buffer.Length && (_current.IsValid || TryTakeNext()))
            {
                var rest = _current.Data.Slice(_offset);
                var n = (int)Math.Min(rest.Length, buffer.Length - copied);
                rest.Slice(0, n).CopyTo(buffer[copied..]);
                copied += n;
                _offset += n;
                if (_offset >= _current.Length)
                {
                    // Read to its end: its slices go back to the shared free lists now.
                    _current.Dispose();
                    _current = default;
                }
            }

            return copied > 0 ? copied : -1;
        }
    }

    private bool TryTakeNext()
    {
        if (!_input.TryRead(out _current))
        {
            return false;
        }

        _offset = 0;
        return true;
    }

    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            bool more;
            try
            {
                more = await _input.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ShmipcException e)
            {
                throw Wrap(e);
            }

            if (!more)
            {
                return 0;
            }

            var n = TryReadAvailable(buffer.Span);
            if (n >= 0)
            {
                return n;
            }
        }
    }

    private ValueTask WriteEmpty() =>
        IsDisposed ? ValueTask.FromException(new ObjectDisposedException(GetType().Name)) : default;

    private async ValueTask WriteChunksAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var n = Math.Min(buffer.Length, MaxMessageBytes);
            await PublishAsync(Fill(buffer.Span[..n]), cancellationToken).ConfigureAwait(false);
            buffer = buffer[n..];
        }
    }

    /// <summary>Rents a lease and copies <paramref name="bytes"/> (not empty) into its shared memory.</summary>
    private ShmLease Fill(ReadOnlySpan<byte> bytes)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ShmLease lease;
        try
        {
            lease = _stream.Rent();
        }
        catch (ShmipcException e)
        {
            throw Wrap(e);
        }

        try
        {
            while (!bytes.IsEmpty)
            {
                var span = lease.GetSpan();
                var n = Math.Min(span.Length, bytes.Length);
                bytes[..n].CopyTo(span);
                lease.Advance(n);
                bytes = bytes[n..];
            }
        }
        catch (ShmipcException e)
        {
            lease.Dispose();
            throw Wrap(e);
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        return lease;
    }

    /// <summary>Publishes a filled lease; it is disposed if it was not sent.</summary>
    private ValueTask PublishAsync(ShmLease lease, CancellationToken cancellationToken)
    {
        ValueTask write;
        try
        {
            write = _stream.Output.WriteAsync(lease, cancellationToken);
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        if (write.IsCompletedSuccessfully)
        {
            return default;
        }

        return AwaitPublishAsync(write, lease);
    }

    private async ValueTask AwaitPublishAsync(ValueTask write, ShmLease lease)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (ChannelClosedException e) when (e.InnerException is ShmipcException inner)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            throw Wrap(inner);
        }
        catch (ShmipcException e)
        {
            throw Wrap(e);
        }
        finally
        {
            // A no-op when the lease was sent (it belongs to the stream then).
            lease.Dispose();
        }
    }
}
