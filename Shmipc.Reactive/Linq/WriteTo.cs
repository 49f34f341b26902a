using System.Reactive;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Shmipc.Channels;

namespace Shmipc.Reactive.Linq;

/// <summary>
/// <c>IObservable&lt;T&gt;</c> → a stream: subscribes a <see cref="ShmipcStreamObserver{T}"/> to the source and
/// awaits its <see cref="ShmipcStreamObserver{T}.Completion"/>; when the writer is done, whatever the outcome, the
/// source is stopped and its subscription disposed. The source is subscribed on the thread pool: a synchronous source
/// pushes everything inside <c>Subscribe</c>, blocking as the bounded queue fills, and that must not be the caller's
/// thread (it may be the one that is about to subscribe the other side).
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
// Design: a synchronous source (Observable.Range, Repeat, Generate, ToObservable on their default current-thread
// scheduler) runs its whole loop inside Subscribe, so the subscription it returns arrives only when the source has
// ended: too late to stop it on cancellation or on a dead peer, and never for an infinite source. So the source is
// subscribed behind TakeUntil(_stop). TakeUntil subscribes the source from inside the current-thread trampoline; there
// the source's loop is a chain of scheduled steps and TakeUntil holds the source's subscription at once. When the
// writer is done, _stop fires (from this method, on another thread): TakeUntil disposes the source's subscription, the
// next scheduled step is cancelled, and the Subscribe call that was running the loop returns. Subscribe is not awaited
// while the writer runs: the method waits for the writer's Completion, then stops the source, and disposes the
// subscription when Subscribe returns (at once for every source that honours disposal; a source that loops without a
// scheduler and ignores disposal cannot be stopped by anyone, but the task still ends on time).
internal static class WriteTo<T>
{
    public static async Task RunAsync(IObservable<T> source, ShmipcStream stream, IShmipcCodec<T> codec, int capacity, CancellationToken cancellationToken)
    {
        using var writer = new ShmipcStreamObserver<T>(stream, codec, capacity);
        using var registration = cancellationToken.Register(static w => ((ShmipcStreamObserver<T>)w!).Dispose(), writer);

        var stop = new AsyncSubject<Unit>();
        var gate = new StopGate(writer);
        var subscribing = Task.Run(() => source.TakeUntil(stop).Subscribe(gate), CancellationToken.None);

        // A source whose Subscribe throws: the writer sends the exception as the sequence's error, and fails with it.
        _ = subscribing.ContinueWith(static (t, g) => ((StopGate)g!).OnError(t.Exception!.InnerException!), gate, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            await writer.Completion.ConfigureAwait(false);
        }
        finally
        {
            gate.Close();
            stop.OnNext(Unit.Default);
            stop.OnCompleted();
            _ = subscribing.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Forwards to the writer until it is done: the completion TakeUntil sends when it stops the source is not the
    /// source's, and must not reach a writer that already ended (or was cancelled).
    /// </summary>
    private sealed class StopGate(ShmipcStreamObserver<T> writer) : IObserver<T>
    {
        private volatile bool _closed;

        public void Close() => _closed = true;

        public void OnNext(T value)
        {
            if (!_closed)
            {
                writer.OnNext(value);
            }
        }

        public void OnError(Exception error)
        {
            if (!_closed)
            {
                writer.OnError(error);
            }
        }

        public void OnCompleted()
        {
            if (!_closed)
            {
                writer.OnCompleted();
            }
        }
    }
}
