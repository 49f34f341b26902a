using System.Threading.Channels;
using Shmipc.Channels;
using Shmipc.Reactive.Internal;

namespace Shmipc.Reactive;

/// <summary>
/// An observer that writes each item to a <see cref="ShmipcStream"/> through a codec, for an
/// <see cref="ShmipcObservable.Observe{T}"/> on the other side. Create it with
/// <see cref="ShmipcObservable.AsObserver{T}"/>, or let <see cref="ShmipcObservable.WriteTo{T}"/> do it.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// <para><b>Back-pressure.</b> Items go through a queue of <see cref="Capacity"/> places to a writer loop that sends an
/// item only when the observer on the other side has granted a credit for it (it grants them as its own
/// <c>OnNext</c> returns) and the IO queue has room (<c>Output.WriteAsync</c> waits). <see cref="IObserver{T}.OnNext"/>
/// cannot await, so when the queue is full <see cref="OnNext"/> <b>blocks the calling thread</b> until a place frees
/// up: that is how a push source is slowed down, and memory stays bounded on both sides (at most
/// <see cref="Capacity"/> items here, at most the observer's prefetch in flight). Nothing is dropped silently.
/// Do not push from a thread that must not block (a UI thread, an event loop the writer needs); put an
/// <c>ObserveOn</c> in front if the source runs there. Items pushed after the writer stopped (see
/// <see cref="Completion"/>) are ignored: the reason is in <see cref="Completion"/>.</para>
/// <para><b>Ending.</b> <see cref="OnCompleted"/> and <see cref="OnError"/> are sent after the items already accepted;
/// the other side sees <c>OnCompleted</c>, or <c>OnError</c> with a <see cref="ShmipcException"/>
/// (<see cref="ShmipcErrorCode.StreamAborted"/>) whose message carries the exception's type and message. The stream is
/// then closed (by the observer, once it has read the end; this observer waits for that and disposes the stream).</para>
/// <para>This observer owns the stream's <see cref="ShmipcStream.Input"/> (credits arrive there) and its
/// <see cref="ShmipcStream.Output"/>; one stream carries one sequence in one direction.</para>
/// </remarks>
// Design:
// - OnNext/OnError/OnCompleted (the source, serialized by the Rx contract) put entries into _queue after taking a
//   place from _slots; WriteLoopAsync is _queue's only reader and the only writer of Output; it returns the place
//   once the item is in the IO queue. So _slots.CurrentCount + PendingCount == Capacity at all times.
// - ControlLoopAsync is Input's only reader: credits go into _credits (a count, awaited by the write loop), Cancel and
//   the end of Input stop the writer through Stop().
// - Stop() records the first reason under _gate and cancels _stop, which releases every wait (OnNext's, the
//   write loop's). _dispose is cancelled only by Dispose: it also cuts the final wait for the observer's close.
public sealed partial class ShmipcStreamObserver<T> : IObserver<T>, IDisposable
{
    private readonly ShmipcStream _stream;
    private readonly IShmipcCodec<T> _codec;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _credits = new(0);
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _dispose = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly Task _control;
    private StopKind _stopKind;
    private Exception? _stopError;
    private int _terminated;
    private long _written;

    internal ShmipcStreamObserver(ShmipcStream stream, IShmipcCodec<T> codec, int capacity)
    {
        _stream = stream;
        _codec = codec;
        Capacity = capacity;
        _slots = new SemaphoreSlim(capacity, capacity);
        _control = ControlLoopAsync();
        _ = WriteLoopAsync();
    }

    private enum StopKind
    {
        None,
        Finished,
        Disposed,
        PeerCancelled,
        PeerClosed,
        Failed,
    }

    private enum EntryKind
    {
        Item,
        Completed,
        Error,
    }

    /// <summary>The stream written to.</summary>
    public ShmipcStream Stream => _stream;

    /// <summary>How many accepted items may wait to be written before <see cref="OnNext"/> blocks.</summary>
    public int Capacity { get; }

    /// <summary>Items accepted by <see cref="OnNext"/> and not yet in the IO queue; never more than <see cref="Capacity"/>.</summary>
    public int PendingCount => Capacity - _slots.CurrentCount;

    /// <summary>
    /// Completes when the other side has read the end of the sequence and closed the stream. Faults with the source's
    /// exception after <see cref="OnError"/> (or the codec's, when an item could not be encoded), with a
    /// <see cref="ShmipcException"/> when the session failed or the other side unsubscribed or closed the stream
    /// (<see cref="ShmipcErrorCode.StreamClosed"/>) first; is cancelled by <see cref="Dispose"/>.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>Queues <paramref name="value"/> for writing; blocks while <see cref="Capacity"/> items are pending.</summary>
    /// <param name="value">The item.</param>
    public void OnNext(T value)
    {
        if (Volatile.Read(ref _terminated) != 0 || _stop.IsCancellationRequested)
        {
            return;
        }

        if (!_slots.Wait(0))
        {
            try
            {
                // Block on a task rather than on the semaphore: a thread-pool thread blocked in Task.Wait is seen by
                // the pool, which then adds threads at once instead of starving (the writer loop and the sessions'
                // continuations need pool threads to make the room this call is waiting for).
                _slots.WaitAsync(_stop.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (!_queue.Writer.TryWrite(new Entry(EntryKind.Item, value, null)))
        {
            _slots.Release();
        }
    }

    /// <summary>Sends the error after the pending items; the other side's observer gets <c>OnError</c> with the reason.</summary>
    /// <param name="error">The reason.</param>
    public void OnError(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Terminate(new Entry(EntryKind.Error, default, error));
    }

    /// <summary>Sends the completion after the pending items.</summary>
    public void OnCompleted() => Terminate(new Entry(EntryKind.Completed, default, null));

    /// <summary>
    /// Stops writing: pending items are dropped, the other side sees <c>OnError</c> (the writer was cancelled) unless
    /// the sequence already ended, and <see cref="Completion"/> is cancelled. Blocked <see cref="OnNext"/> calls return.
    /// </summary>
    public void Dispose()
    {
        _dispose.Cancel();
        Stop(StopKind.Disposed, null);
    }

    private void Terminate(Entry entry)
    {
        if (Interlocked.Exchange(ref _terminated, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryWrite(entry);
        _queue.Writer.TryComplete();
    }

    private void Stop(StopKind kind, Exception? error)
    {
        lock (_gate)
        {
            if (_stopKind != StopKind.None)
            {
                return;
            }

            _stopKind = kind;
            _stopError = error;
        }

        _stop.Cancel();
    }

    private (StopKind Kind, Exception? Error) StopReason()
    {
        lock (_gate)
        {
            return (_stopKind, _stopError);
        }
    }

    private readonly record struct Entry(EntryKind Kind, T? Value, Exception? Error);
}
