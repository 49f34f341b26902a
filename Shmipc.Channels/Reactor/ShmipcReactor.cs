using System.Collections.Concurrent;
using System.Diagnostics;
using Shmipc.Channels.Interop;

namespace Shmipc.Channels.Reactor;

/// <summary>
/// The polling-plus-eventfd reactor (docs/ARCHITECTURE.md §4): one background thread that owns the receive queues of its sessions.
/// While traffic flows it spin-polls them with their working flags held, so peers send no wake-ups; when idle it clears
/// the flags with a full fence, re-checks, and parks in <c>epoll_wait</c> on the session sockets plus one eventfd.
/// </summary>
// Design:
// - Only the reactor thread touches _handlers, _list, the epoll set and every handler's receive side. Other threads
//   talk to it through _commands (a ConcurrentQueue) and Wake().
// - Wake() is "schedule once": the reactor publishes _parked = 1 (Interlocked.Exchange, a full fence) and then
//   re-checks _commands before it blocks; a producer enqueues first and then swaps _parked to 0, signalling the eventfd
//   only if it saw 1. Either the reactor sees the command, or the producer sees _parked == 1 and signals: no lost wake-up.
// - The spin after work is bounded by the largest SpinTicks of the handlers and ends early when it is contended
//   (SpinBackoff: yields that come back late mean other work wants this core), so on a busy machine the reactor parks
//   (and peers send wake-ups) instead of taking the core from the threads that would produce the next message.
// - Readers that spin (StreamChannelReader) hold their session's working flag and drain its queue themselves. While
//   any does, the reactor neither spins (it would take a core from them or from the peer) nor clears that flag
//   (TryPark leaves it): it parks without a timeout. The last reader to stop gives the flag back itself when it sees
//   the reactor parked (Session.ReaderSpinEnded: clear, re-check the queue, Wake if a message came in). The reactor
//   reads _readerEpoch before its park decision, publishes _parked, then re-reads _readerEpoch; a reader that stops
//   decrements its session's count, bumps _readerEpoch and then reads _parked: a Dekker pair with full fences on both
//   sides, so either the reader sees the reactor parked and releases the flag, or the reactor sees the epoch change
//   and decides again (and clears the flag in its own TryPark). The epoch, not the "any reader spinning" answer: one
//   session's last reader may stop while another session's starts, which leaves that answer unchanged.
//   docs/ARCHITECTURE.md §4 step 5. (It used to park with a 1 ms timeout instead: those wake-ups preempted the
//   spinning readers about 500 times a second per process, and the displaced spinners ended up sharing a core.)
// - The working flags follow docs/PROTOCOL.md §6: EnterSpin sets them (peers then skip SyncEvents), TryPark clears each with
//   Interlocked.Exchange and re-checks its queue; a handler that finds work keeps its flag and the reactor spins on.
// - Writers waiting for queue room are not always woken by the peer (shmipc-go consumers never signal producers; a
//   Shmipc.NET consumer sends a SyncEvent after draining a full queue, see Session.SignalRoom), so while any handler
//   HasWaiters the parked reactor re-polls the peer's head on an epoll timeout that backs off from 1 ms to
//   MaxWaiterPollMs while nothing changes; a new waiter (WakeForWaiter) or any work resets it to 1 ms. A stalled
//   writer then costs ~20 wake-ups a second instead of 1000, and a writer behind a Go consumer resumes within
//   MaxWaiterPollMs of the room appearing (within 1-2 ms while the consumer keeps draining).
internal sealed class ShmipcReactor
{
    private const int MaxEvents = 128;
    private const ulong WakeToken = 0;
    private const int EpollPassEvery = 16;
    private const int MaxWaiterPollMs = 50;

    private static readonly Lazy<ShmipcReactor> s_shared = new(() => new ShmipcReactor("shmipc-reactor"));

    private readonly EpollHandle _epoll;
    private readonly EventFd _wake;
    private readonly ConcurrentQueue<Command> _commands = new();
    private readonly Dictionary<ulong, IReactorHandler> _handlers = [];
    private readonly List<IReactorHandler> _list = [];
    private readonly EpollEventData[] _events = new EpollEventData[MaxEvents];
    private readonly Thread _thread;
    private ulong _nextToken = 1;
    private int _parked;

    // Bumped by every reader that stops spinning (ReaderSpinEnded); read before a park decision and again after _parked
    // is published (see Design).
    private long _readerEpoch;
    private long _spinTicks;

    // The parked reactor's epoll timeout while writers wait (see Design); other threads only reset it to 1.
    private int _waiterPollMs = 1;

    private ShmipcReactor(string name)
    {
        _epoll = EpollHandle.Create();
        _wake = EventFd.Create();
        _epoll.Add(_wake.Fd, EpollHandle.EPOLLIN, WakeToken);

        // A fault absorbed by the SIGBUS guard (on any thread) wakes the reactor, whose next pass lets the session
        // whose shared memory was truncated see it and close.
        SigbusGuard.SetWakeFd(_wake.Fd);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>The process-wide reactor every session registers with.</summary>
    public static ShmipcReactor Shared => s_shared.Value;

    /// <summary>Whether the caller runs on the reactor thread.</summary>
    public bool IsReactorThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// A reader stopped spinning (after updating its session's reader count): bumps the reader epoch, a full fence, and
    /// returns whether the reactor is parked, i.e. whether the reader must give its session's working flag back.
    /// </summary>
    public bool ReaderSpinEnded()
    {
        Interlocked.Increment(ref _readerEpoch);
        return Volatile.Read(ref _parked) == 1;
    }

    /// <summary>Adds a handler; the reactor starts serving it on its next pass.</summary>
    public void Register(IReactorHandler handler)
    {
        _commands.Enqueue(new Command(handler, true, null));
        Wake();
    }

    /// <summary>Removes a handler. The task completes once the reactor will not call it again.</summary>
    public Task UnregisterAsync(IReactorHandler handler)
    {
        if (IsReactorThread)
        {
            Remove(handler);
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _commands.Enqueue(new Command(handler, false, done));
        Wake();
        return done.Task;
    }

    /// <summary>A writer started waiting for queue room: poll for it promptly again (the back-off restarts at 1 ms).</summary>
    public void WakeForWaiter()
    {
        Volatile.Write(ref _waiterPollMs, 1);
        Wake();
    }

    /// <summary>
    /// Reactor thread only: re-reads <see cref="IReactorHandler.Events"/> of <paramref name="handler"/> into the epoll
    /// set (a session stops or resumes reading its socket).
    /// </summary>
    public void UpdateEvents(IReactorHandler handler)
    {
        foreach (var (token, h) in _handlers)
        {
            if (ReferenceEquals(h, handler))
            {
                _epoll.Modify(handler.Fd, handler.Events, token);
                return;
            }
        }
    }

    /// <summary>Makes the reactor run a pass soon (a handler gained waiters, or a command was queued).</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _parked, 0) == 1)
        {
            _wake.Signal();
        }
    }

    private void Run()
    {
        var spinning = false;
        var backoff = default(SpinBackoff);
        var pass = 0;
        while (true)
        {
            var work = RunCommands();
            if (!spinning || ++pass % EpollPassEvery == 0)
            {
                work |= Dispatch(_epoll.Wait(_events, 0));
            }

            work |= PollHandlers();
            if (work)
            {
                Volatile.Write(ref _waiterPollMs, 1);
                if (!spinning)
                {
                    spinning = true;
                    backoff = new SpinBackoff(Volatile.Read(ref _spinTicks));
                    EnterSpinAll();
                }
                else
                {
                    backoff.Restart();
                }

                continue;
            }

            // Read before the park decision, re-read after _parked is published (see Design).
            var readerEpoch = Volatile.Read(ref _readerEpoch);

            // Pause, yield now and then, and stop when contended (SpinBackoff): on a small machine the threads that
            // will produce the next message (readers, the peer process) need this core more than the spin does.
            // Readers that spin on their queues (they drain them and hold the working flags) would only lose a core to
            // a spinning reactor: park instead, leaving their flags set; the last reader to stop releases them.
            if (spinning && !AnyReadersSpinning() && backoff.TryYield())
            {
                continue;
            }

            if (!TryParkAll())
            {
                if (!spinning)
                {
                    spinning = true;
                    backoff = new SpinBackoff(Volatile.Read(ref _spinTicks));
                }

                backoff.Restart();
                continue;
            }

            spinning = false;
            Interlocked.Exchange(ref _parked, 1);

            // Re-checked after publishing _parked (full fence), as the commands are: a reader that stops bumps the
            // epoch and then reads _parked; either it sees 1 and (if it was its session's last) releases its flag
            // itself, or this sees the epoch change and decides again, so a flag TryParkAll left set for a reader that
            // has stopped since is cleared. A reader that starts meanwhile needs nothing: it sets its flag itself and
            // releases it when it stops.
            if (!_commands.IsEmpty || readerEpoch != Volatile.Read(ref _readerEpoch))
            {
                Interlocked.Exchange(ref _parked, 0);
                continue;
            }

            var timeout = -1;
            if (AnyWaiters())
            {
                timeout = Volatile.Read(ref _waiterPollMs);
                // A CAS, not a write: a reset by WakeForWaiter in between must not be overwritten.
                Interlocked.CompareExchange(ref _waiterPollMs, Math.Min(timeout * 2, MaxWaiterPollMs), timeout);
            }

            var n = _epoll.Wait(_events, timeout);
            Interlocked.Exchange(ref _parked, 0);
            Dispatch(n);
        }
    }

    private bool RunCommands()
    {
        var any = false;
        while (_commands.TryDequeue(out var c))
        {
            any = true;
            if (c.Add)
            {
                var token = _nextToken++;
                try
                {
                    _epoll.Add(c.Handler.Fd, c.Handler.Events, token);
                }
                catch (Exception e) when (e is ShmipcException)
                {
                    c.Handler.OnFault(e);
                    continue;
                }

                _handlers.Add(token, c.Handler);
                _list.Add(c.Handler);
                UpdateSpin();
            }
            else
            {
                Remove(c.Handler);
                c.Done?.TrySetResult();
            }
        }

        return any;
    }

    private bool Dispatch(int count)
    {
        var work = false;
        for (var i = 0; i < count; i++)
        {
            var e = _events[i];
            if (e.Data == WakeToken)
            {
                _wake.Drain();
                continue;
            }

            if (_handlers.TryGetValue(e.Data, out var h))
            {
                try
                {
                    work |= h.OnReady(e.Events);
                }
                catch (Exception ex)
                {
                    Fault(h, ex);
                }
            }
        }

        return work;
    }

    private bool PollHandlers()
    {
        var work = false;
        for (var i = _list.Count - 1; i >= 0; i--)
        {
            if (i >= _list.Count)
            {
                continue;
            }

            var h = _list[i];
            try
            {
                work |= h.Poll();
            }
            catch (Exception ex)
            {
                Fault(h, ex);
            }
        }

        return work;
    }

    private bool TryParkAll()
    {
        var all = true;
        for (var i = _list.Count - 1; i >= 0; i--)
        {
            if (i >= _list.Count)
            {
                continue;
            }

            var h = _list[i];
            try
            {
                all &= h.TryPark();
            }
            catch (Exception ex)
            {
                Fault(h, ex);
            }
        }

        return all;
    }

    private void EnterSpinAll()
    {
        // Backwards with a bounds check: a faulting handler removes itself from _list during the walk.
        for (var i = _list.Count - 1; i >= 0; i--)
        {
            if (i < _list.Count)
            {
                Guard(_list[i], static h => h.EnterSpin());
            }
        }
    }

    private bool AnyReadersSpinning() => Any(static h => h.ReadersSpinning);

    private bool AnyWaiters() => Any(static h => h.HasWaiters);

    private bool Any(Func<IReactorHandler, bool> predicate)
    {
        foreach (var h in _list)
        {
            if (predicate(h))
            {
                return true;
            }
        }

        return false;
    }

    private void Guard(IReactorHandler h, Action<IReactorHandler> action)
    {
        try
        {
            action(h);
        }
        catch (Exception ex)
        {
            Fault(h, ex);
        }
    }

    private void Fault(IReactorHandler h, Exception ex)
    {
        Remove(h);
        try
        {
            h.OnFault(ex);
        }
        catch (Exception inner)
        {
            // A handler that cannot even close itself has broken an invariant of this process.
            Environment.FailFast("shmipc reactor: a handler failed while closing after a fault", inner);
        }
    }

    private void Remove(IReactorHandler handler)
    {
        var index = _list.IndexOf(handler);
        if (index < 0)
        {
            return;
        }

        _list.RemoveAt(index);
        foreach (var (token, h) in _handlers)
        {
            if (ReferenceEquals(h, handler))
            {
                _handlers.Remove(token);
                break;
            }
        }

        try
        {
            _epoll.Remove(handler.Fd);
        }
        catch (ShmipcException)
        {
            // The fd may already be closed; epoll forgets closed fds by itself.
        }

        UpdateSpin();
        handler.OnRemoved();
    }

    private void UpdateSpin()
    {
        long max = 0;
        foreach (var h in _list)
        {
            max = Math.Max(max, h.SpinTicks);
        }

        Volatile.Write(ref _spinTicks, max);
    }

    private readonly record struct Command(IReactorHandler Handler, bool Add, TaskCompletionSource? Done);
}
