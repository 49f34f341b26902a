using System.Threading.Tasks.Sources;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// One writer's wait for IO-queue room (<see cref="Session.WaitForQueueRoomAsync"/>): a reusable value-task source, so
/// a writer that keeps finding the queue full allocates nothing per wait (no TaskCompletionSource, no timeout timer, no
/// linked token source: the deadline is checked by the reactor's poll of waiting writers).
/// </summary>
// Design: each wait signals exactly once (TrySignal: Room from the reactor or a close, Canceled from the token's
// callback, TimedOut from the reactor), guarded by _signaled. A waiter goes back to the session's pool when its wait
// ends, and the next wait Resets it (the core first, then _signaled): a late Room signal meant for the old wait can
// then only complete the new one early, which is harmless, because every waiter re-checks the queue and waits again.
// Continuations run asynchronously, so signalling under the session's waiter lock, or on the reactor, runs no user code.
internal sealed class RoomWaiter : IValueTaskSource<RoomWaitOutcome>
{
    private ManualResetValueTaskSourceCore<RoomWaitOutcome> _core;
    private int _signaled;

    public RoomWaiter() => _core.RunContinuationsAsynchronously = true;

    /// <summary>Stopwatch timestamp after which the wait times out (long.MaxValue: never).</summary>
    public long DeadlineTicks { get; private set; }

    /// <summary>Prepares the waiter for a new wait.</summary>
    public void Reset(long deadlineTicks)
    {
        _core.Reset();
        DeadlineTicks = deadlineTicks;
        Volatile.Write(ref _signaled, 0);
    }

    /// <summary>The value task the writer awaits for this wait.</summary>
    public ValueTask<RoomWaitOutcome> WaitAsync() => new(this, _core.Version);

    /// <summary>Ends the wait with <paramref name="outcome"/> unless it has ended already.</summary>
    public bool TrySignal(RoomWaitOutcome outcome)
    {
        if (Interlocked.Exchange(ref _signaled, 1) != 0)
        {
            return false;
        }

        _core.SetResult(outcome);
        return true;
    }

    RoomWaitOutcome IValueTaskSource<RoomWaitOutcome>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<RoomWaitOutcome>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<RoomWaitOutcome>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
