using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels.Channels;

/// <summary>
/// <see cref="ShmipcStream.Output"/>: publishes written leases to the peer. Waits (awaitably, with the session's write
/// timeout) when the IO queue is full; completing it closes the stream.
/// </summary>
/// <remarks>
/// Errors: a closed stream or session is a <see cref="ChannelClosedException"/> carrying the <see cref="ShmipcException"/>
/// (TryWrite returns false); a write timeout is a <see cref="ShmipcException"/> with <see cref="ShmipcErrorCode.Timeout"/>,
/// the lease stays the caller's and the stream stays usable unless the exception says the session closed.
/// </remarks>
// Design: no close state of its own (it is the stream's, SessionStream.State); TryWrite is the whole fast path (no
// allocation, no await). WaitToWriteAsync parks on the session's queue-room waiters, which the reactor releases when the peer's head advances. Under
// ExhaustionPolicy.Wait a message still on the heap waits for free slices instead (Session.WaitForSlicesAsync);
// _waitingForSlices (volatile, any writer thread) makes WaitToWriteAsync wait for slices after such a TryWrite.
internal sealed class StreamChannelWriter : ChannelWriter<ShmLease>
{
    private readonly SessionStream _stream;
    // The error Output was completed with; whether it is completed is the stream's OutputCompleted bit (SessionStream.State).
    private Exception? _completion;
    private volatile bool _waitingForSlices;

    public StreamChannelWriter(SessionStream stream) => _stream = stream;

    private Session Session => _stream.Session;

    /// <inheritdoc />
    public override bool TryWrite(ShmLease item)
    {
        var core = Validate(item);
        if (IsDone(out _))
        {
            return false;
        }

        try
        {
            if (Session.TrySend(_stream, core, item.TokenValue))
            {
                return true;
            }
        }
        catch (ShmipcException e) when (e.ErrorCode != ShmipcErrorCode.Timeout && IsDone(out _))
        {
            // The session closed while the message was on its way (the lease is still the caller's).
            return false;
        }

        // ExhaustionPolicy.Wait: a message still on the heap waits for slices, not for queue room.
        _waitingForSlices = core.IsHeap;
        return false;
    }

    /// <inheritdoc />
    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (IsDone(out var error))
        {
            return error is null ? new ValueTask<bool>(false) : ValueTask.FromException<bool>(error);
        }

        return Session.HasQueueRoom && !_waitingForSlices ? new ValueTask<bool>(true) : WaitSlowAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ShmLease item, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            if (TryWrite(item))
            {
                return default;
            }
        }
        catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.MessageTooLarge)
        {
            // This message only: the stream stays open, so it is not a ChannelClosedException.
            return ValueTask.FromException(e);
        }
        catch (ShmipcException e)
        {
            // A timeout leaves the stream open (and the lease the caller's): it is not a closed channel.
            return ValueTask.FromException(e.ErrorCode == ShmipcErrorCode.Timeout ? e : new ChannelClosedException(e));
        }

        return WriteSlowAsync(item, cancellationToken);
    }

    /// <inheritdoc />
    public override bool TryComplete(Exception? error = null)
    {
        if (!_stream.TryCompleteOutput())
        {
            return false;
        }

        Volatile.Write(ref _completion, error);
        _stream.CloseOutput();
        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitSlowAsync(CancellationToken cancellationToken)
    {
        if (_waitingForSlices)
        {
            await Session.WaitForSlicesAsync(null, cancellationToken).ConfigureAwait(false);
            _waitingForSlices = false;
        }

        await Session.WaitForQueueRoomAsync(cancellationToken).ConfigureAwait(false);
        return !IsDone(out _);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ShmLease item, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                if (item.CoreOrNull is { IsHeap: true } core && core.Token == item.TokenValue)
                {
                    // Exhausted shared memory (ExhaustionPolicy.Wait): its own error, not a closed channel.
                    await Session.WaitForSlicesAsync(core, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await Session.WaitForQueueRoomAsync(cancellationToken).ConfigureAwait(false);
                }

                if (TryWrite(item))
                {
                    return;
                }

                if (IsDone(out var error))
                {
                    throw new ChannelClosedException(error);
                }
            }
            catch (ShmipcException e) when (e.ErrorCode is not (ShmipcErrorCode.Timeout or ShmipcErrorCode.MessageTooLarge or ShmipcErrorCode.NoMoreBuffer))
            {
                throw new ChannelClosedException(e);
            }
        }
    }

    private bool IsDone(out Exception? error)
    {
        var state = _stream.State;
        if ((state & StreamState.OutputCompleted) != 0)
        {
            error = Volatile.Read(ref _completion);
            return true;
        }

        if (Session.IsClosed)
        {
            error = Session.CreateClosedException();
            return true;
        }

        if ((state & (StreamState.LocalClosed | StreamState.RemoteClosed)) != 0)
        {
            var byPeer = (state & StreamState.RemoteClosed) != 0;
            error = new ShmipcException(ShmipcErrorCode.StreamClosed, $"stream {_stream.Id} is closed" + (byPeer ? " by the peer." : "."));
            return true;
        }

        error = null;
        return false;
    }

    private LeaseCore Validate(ShmLease item)
    {
        var core = item.CoreOrNull;
        if (core is null || core.Token != item.TokenValue)
        {
            throw new ArgumentException("The lease was disposed or already written.", nameof(item));
        }

        if (core.Kind != LeaseKind.Writing || !ReferenceEquals(core.Session, Session) || core.StreamId != _stream.Id)
        {
            throw new ArgumentException($"The lease was not rented from stream {_stream.Id} (use ShmipcStream.Rent).", nameof(item));
        }

        if (core.Length == 0)
        {
            // shmipc has no empty message (a Go writer's Flush of nothing sends nothing), so rather than drop it
            // silently (one lease written would not be one lease received) the write is refused.
            throw new ArgumentException("The lease is empty: shmipc cannot carry an empty message. Write at least one byte; the lease is still yours to dispose.", nameof(item));
        }

        return core;
    }
}
