using System.Runtime.CompilerServices;

namespace Shmipc.Reactive.Internal;

/// <summary>
/// <c>await ThreadPoolHop.IfNeeded</c> moves the caller to the thread pool unless it already runs there.
/// </summary>
/// <remarks>
/// A channel completes its readers synchronously when it allows it (the core does with
/// <c>RunContinuationsOnReactor</c>): the loop would then run observers on the reactor thread, and an observer that
/// blocks (a <see cref="ShmipcStreamObserver{T}"/> waiting for room) would stall every session of the process.
/// The check costs nothing on the usual path, where the continuation already runs on the pool.
/// </remarks>
internal readonly struct ThreadPoolHop : ICriticalNotifyCompletion
{
    public static ThreadPoolHop IfNeeded => default;

    public bool IsCompleted => Thread.CurrentThread.IsThreadPoolThread;

    public ThreadPoolHop GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
}
