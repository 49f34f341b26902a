using System.Runtime.CompilerServices;

namespace Shmipc.Reactive.Internal;

/// <summary>
/// <c>await ThreadPoolHop.IfNeeded</c> moves the caller to the thread pool unless it already runs there;
/// <c>await ThreadPoolHop.Always</c> always does.
/// </summary>
/// <remarks>
/// <para>IfNeeded: a channel completes its readers synchronously when it allows it (the core does with
/// <c>RunContinuationsOnReactor</c>): the loop would then run observers on the reactor thread, and an observer that
/// blocks (a <see cref="ShmipcStreamObserver{T}"/> waiting for room) would stall every session of the process. The
/// check costs nothing on the usual path, where the continuation already runs on the pool.</para>
/// <para>Always: the first delivery must not happen inside <c>Subscribe</c>, before the caller holds the subscription
/// (an operator such as <c>Take</c> could not stop the loop, and the leases it then drops would leak).</para>
/// </remarks>
internal readonly struct ThreadPoolHop : ICriticalNotifyCompletion
{
    private readonly bool _always;

    private ThreadPoolHop(bool always) => _always = always;

    public static ThreadPoolHop IfNeeded => default;

    public static ThreadPoolHop Always => new(always: true);

    public bool IsCompleted => !_always && Thread.CurrentThread.IsThreadPoolThread;

    public ThreadPoolHop GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
}
