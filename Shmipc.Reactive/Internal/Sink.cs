using System.Runtime.ExceptionServices;

namespace Shmipc.Reactive.Internal;

/// <summary>
/// The downstream end of a producer: forwards notifications to the observer and enforces the Rx grammar
/// (<c>OnNext* (OnError | OnCompleted)?</c>), and turns <see cref="Dispose"/> into a cancellation of the producer loop.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
// Design:
// - Only the producer loop calls the Forward* methods, one at a time, so calls to the observer are serialized.
// - _observer is swapped for a no-op observer (Interlocked) by the first terminal call or by Dispose: at most one
//   terminal call is ever made and nothing follows it. Dispose may run on any thread, including inside OnNext.
// - _stop is cancelled by Dispose and by the terminal calls; the loop passes its token to its waits. It is never
//   disposed (it has no timer; a concurrent Cancel after Dispose would throw).
internal abstract class Sink<T> : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private IObserver<T> _observer;

    protected Sink(IObserver<T> observer) => _observer = observer;

    /// <summary>Cancelled once the sink is disposed or terminated.</summary>
    protected CancellationToken StopToken => _stop.Token;

    /// <summary>Whether nothing more will reach the observer.</summary>
    protected bool IsStopped => ReferenceEquals(Volatile.Read(ref _observer), NopObserver.Instance);

    /// <summary>Stops forwarding and cancels the producer loop.</summary>
    public virtual void Dispose()
    {
        Interlocked.Exchange(ref _observer, NopObserver.Instance);
        Cancel();
    }

    /// <summary>
    /// Hands <paramref name="value"/> to the observer. Returns false when the sink was already stopped, so the value
    /// still belongs to the caller (to release). An exception from the observer goes to <c>OnError</c>, never back
    /// into the loop; the value then counts as delivered.
    /// </summary>
    protected bool TryForwardOnNext(T value)
    {
        var observer = Volatile.Read(ref _observer);
        if (ReferenceEquals(observer, NopObserver.Instance))
        {
            return false;
        }

        try
        {
            observer.OnNext(value);
        }
        catch (Exception e)
        {
            ForwardOnError(e);
        }

        return true;
    }

    /// <summary>Terminates with an error (once).</summary>
    protected void ForwardOnError(Exception error)
    {
        var observer = Interlocked.Exchange(ref _observer, NopObserver.Instance);
        if (ReferenceEquals(observer, NopObserver.Instance))
        {
            return;
        }

        Cancel();
        try
        {
            observer.OnError(error);
        }
        catch (Exception e)
        {
            RethrowOnThreadPool(e);
        }
    }

    /// <summary>Terminates successfully (once).</summary>
    protected void ForwardOnCompleted()
    {
        var observer = Interlocked.Exchange(ref _observer, NopObserver.Instance);
        if (ReferenceEquals(observer, NopObserver.Instance))
        {
            return;
        }

        Cancel();
        try
        {
            observer.OnCompleted();
        }
        catch (Exception e)
        {
            RethrowOnThreadPool(e);
        }
    }

    private void Cancel()
    {
        try
        {
            _stop.Cancel();
        }
        catch (AggregateException)
        {
            // A registration callback threw; the token is cancelled all the same and our own callbacks do not throw.
        }
    }

    // An observer whose OnError/OnCompleted throws is broken (Rx's default OnError of Subscribe(onNext) throws on
    // purpose). Rx lets such an exception escape on the scheduler's thread; we do the same on the thread pool rather
    // than swallow it or let it fault the reader loop.
    private static void RethrowOnThreadPool(Exception e) =>
        ThreadPool.UnsafeQueueUserWorkItem(static edi => edi.Throw(), ExceptionDispatchInfo.Capture(e), preferLocal: false);

    private sealed class NopObserver : IObserver<T>
    {
        public static readonly NopObserver Instance = new();

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnNext(T value)
        {
        }
    }
}
