using System.Collections.Concurrent;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// A pool of idle <see cref="LeaseCore"/> objects (<see cref="Shared"/>, process-wide, is the one the library uses). Its
/// capacity follows the open sessions: a fixed base plus, per started session, the number of received messages that
/// session may leave waiting for its readers (<see cref="ShmipcOptions.ReceiveBudgetMessages"/>); the share of the
/// session released last is kept for the session that replaces it.
/// </summary>
// Design:
// - Why the capacity follows the receive budgets: a reader that lags behind its sender (a one-way stream) keeps up to
//   ReceiveBudgetMessages received cores alive in its session's inputs, and the session resumes reading at half the
//   budget, so the number of live cores swings by thousands at a time. A fixed cap below that swing (it was 4096, the
//   budget defaults to 16384) dropped the surplus on every swing and allocated it again on the next: a LeaseCore, its
//   arrays and memory managers, and a finalizer registration, ~100 B per message on the receiving side.
// - The bound: the pool creates a core only when it is empty, so it never holds more cores than were live at once,
//   and it never holds more than its limit (plus the one fast slot): Capacity = BaseCapacity (writers' leases and
//   messages in readers' hands, not tied to any budget) + the sum of ReceiveBudgetMessages over started, not yet
//   released sessions, plus _spare = the share of the session released last. Capacity is the peak the open sessions'
//   budgets already allow to be live, so pooling it adds no memory beyond what they may use anyway (the cores live,
//   not pooled, are still bounded by the budgets and by the slices in shared memory); _spare is one session's budget
//   at most, whatever the number of sessions that came and went.
// - Why _spare: a session that replaces one just closed (a reconnect, a client pool rebuilding a slot, a benchmark's
//   next cell) would otherwise create its cores again as its reader's lag first reaches each new peak, up to a
//   budget's worth (~7 MB at the default) per session. With _spare it takes over the cores of the one before it.
//   Releasing a session trims the pool at once to the new limit, so closed sessions leave no more than _spare.
// - Same shape as Microsoft.Extensions.ObjectPool's DefaultObjectPool (one fast slot, then a ConcurrentQueue and an
//   Interlocked count), whose capacity is fixed; the queue's segment grows to the largest count once, then is reused.
// - A core dropped here is Kind None and unreachable from the library; its leak finalizer would do nothing, so it is
//   suppressed to keep the dropped core off the finalizer queue.
internal sealed class LeaseCorePool(int baseCapacity)
{
    /// <summary>Cores the shared pool retains with no session open (the fixed cap it had before it followed the sessions).</summary>
    public const int BaseCapacity = 4096;

    private readonly ConcurrentQueue<LeaseCore> _items = new();
    private LeaseCore? _fast;
    private long _count;
    private long _capacity = baseCapacity;
    private long _spare;

    /// <summary>The pool every session and lease of this process uses.</summary>
    public static LeaseCorePool Shared { get; } = new(BaseCapacity);

    /// <summary>The base plus the receive budgets (in messages) of the started, not yet released sessions.</summary>
    public long Capacity => Volatile.Read(ref _capacity);

    /// <summary>How many cores the pool retains at most now (besides its fast slot): <see cref="Capacity"/> + the share of the session released last.</summary>
    public long Limit => Volatile.Read(ref _capacity) + Volatile.Read(ref _spare);

    /// <summary>Idle cores in the pool now (diagnostics and tests).</summary>
    public long Count => Volatile.Read(ref _count) + (Volatile.Read(ref _fast) is null ? 0 : 1);

    /// <summary>An idle core (Kind None), pooled or new.</summary>
    public LeaseCore Rent()
    {
        var fast = Volatile.Read(ref _fast);
        if (fast is not null && Interlocked.CompareExchange(ref _fast, null, fast) == fast)
        {
            return fast;
        }

        if (_items.TryDequeue(out var core))
        {
            Interlocked.Decrement(ref _count);
            return core;
        }

        return new LeaseCore();
    }

    /// <summary>Keeps an idle core (Kind None) for the next <see cref="Rent"/>, or drops it when the pool is full.</summary>
    public void Return(LeaseCore core)
    {
        if (core.Kind != LeaseKind.None)
        {
            // Still owned by a message: never hand it out twice.
            return;
        }

        if (Volatile.Read(ref _fast) is null && Interlocked.CompareExchange(ref _fast, core, null) is null)
        {
            return;
        }

        if (Interlocked.Increment(ref _count) <= Limit)
        {
            _items.Enqueue(core);
            return;
        }

        Interlocked.Decrement(ref _count);
        core.Discard();
    }

    /// <summary>A session started: the pool may retain <paramref name="receiveBudgetMessages"/> more cores.</summary>
    public void AddSession(int receiveBudgetMessages) => Interlocked.Add(ref _capacity, receiveBudgetMessages);

    /// <summary>
    /// A session was released: its share leaves the capacity and becomes the spare (replacing the previous spare), and
    /// cores above the new limit are dropped now.
    /// </summary>
    public void RemoveSession(int receiveBudgetMessages)
    {
        // Spare first: while the share moves from the capacity to the spare, Return never sees a limit without it.
        Volatile.Write(ref _spare, receiveBudgetMessages);
        Interlocked.Add(ref _capacity, -receiveBudgetMessages);
        Trim();
    }

    private void Trim()
    {
        while (Volatile.Read(ref _count) > Limit && _items.TryDequeue(out var core))
        {
            Interlocked.Decrement(ref _count);
            core.Discard();
        }
    }
}
