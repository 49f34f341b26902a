using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Shmipc.Channels.Reactor;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels.Channels;

/// <summary>
/// <see cref="ShmipcStream.Input"/>: the stream's inbound leases. Before a read parks, it polls for a short, bounded
/// time (the session's spin budget), so in request/response traffic the reply is usually picked up by the thread
/// that asked for it, without a hop through the thread pool.
/// </summary>
// Design: a thin wrapper over a single-writer unbounded Channel (the reactor thread writes, user threads read); all
// state lives in the inner channel. The spin is on the reader's own thread, bounded by spinTicks (0 in LowCpu mode),
// pauses (yields now and then) and ends early when contended (SpinBackoff), so the producer (the peer, a writer) is
// not starved on small or busy machines. While it spins the reader drains the session's receive queue itself
// (Session.TryDrainForReader): the message it waits for reaches it without the reactor and without a thread-pool hop.
// Session.ReaderSpinStarted/ReaderSpinEnded bracket every spin: while a reader spins it holds the session's working
// flag (the peer sends no wake-up) and the reactor stays parked, so each process has one spinner, not two.
// Every lease that leaves the inner channel through this reader is reported to the stream (OnTaken): it leaves the
// session's receive budget, which may let a paused session read again.
// With trackOrigins (ShmipcOptions.TrackLeaseOrigins) every lease handed out is stamped with the reader's stack trace,
// so a leak report can say where it was read: one StackTrace per message, a diagnostic mode only.
internal sealed class StreamChannelReader(SessionStream stream, long spinTicks, bool trackOrigins) : ChannelReader<ShmLease>
{
    private readonly ChannelReader<ShmLease> _inner = stream.RawInput;

    /// <inheritdoc />
    public override Task Completion => _inner.Completion;

    /// <inheritdoc />
    public override bool CanCount => _inner.CanCount;

    /// <inheritdoc />
    public override int Count => _inner.Count;

    /// <inheritdoc />
    public override bool CanPeek => _inner.CanPeek;

    /// <inheritdoc />
    public override bool TryRead(out ShmLease item)
    {
        if (!_inner.TryRead(out item))
        {
            return false;
        }

        Taken(item);
        return true;
    }

    /// <inheritdoc />
    public override bool TryPeek(out ShmLease item) => _inner.TryPeek(out item);

    /// <inheritdoc />
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (_inner.Count > 0 || SpinUntilAvailable(cancellationToken))
        {
            return new ValueTask<bool>(true);
        }

        return _inner.WaitToReadAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override ValueTask<ShmLease> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (TryRead(out var item))
        {
            return new ValueTask<ShmLease>(item);
        }

        if (SpinUntilAvailable(cancellationToken) && TryRead(out item))
        {
            return new ValueTask<ShmLease>(item);
        }

        var pending = LosslessRead.ReadAsync(_inner, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            item = pending.Result;
            Taken(item);
            return new ValueTask<ShmLease>(item);
        }

        return ReadSlowAsync(pending);
    }

    // Pooled builder: a reader that parks does not allocate a state machine per message.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ShmLease> ReadSlowAsync(ValueTask<ShmLease> pending)
    {
        var item = await pending.ConfigureAwait(false);
        Taken(item);
        return item;
    }

    /// <summary>A lease left the inner channel through this reader.</summary>
    private void Taken(ShmLease item)
    {
        stream.OnTaken(item);
        if (trackOrigins)
        {
            Stamp(item);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Stamp(ShmLease item)
    {
        if (item.CoreOrNull is { } core && core.Token == item.TokenValue)
        {
            core.SetOrigin(new StackTrace(2, true));
        }
    }

    private bool SpinUntilAvailable(CancellationToken cancellationToken)
    {
        if (spinTicks <= 0)
        {
            return false;
        }

        var session = stream.Session;
        session.ReaderSpinStarted();
        SpinBackoff.Enter();
        try
        {
            return Spin(session, cancellationToken);
        }
        finally
        {
            SpinBackoff.Exit();
            session.ReaderSpinEnded();
        }
    }

    private bool Spin(Session session, CancellationToken cancellationToken)
    {
        var backoff = new SpinBackoff(spinTicks);
        while (!cancellationToken.IsCancellationRequested && !_inner.Completion.IsCompleted)
        {
            // Count, not TryPeek: peeking marks the channel's queue segment as observed, and every later write
            // would then allocate a fresh segment (measured: ~50 B per message).
            if (_inner.Count > 0)
            {
                return true;
            }

            // Take the next message from shared memory on this thread rather than wait for the reactor to hand it
            // over (and, once parked, for a thread-pool thread to resume us).
            if (session.TryDrainForReader() && _inner.Count > 0)
            {
                return true;
            }

            if (!backoff.TryYield())
            {
                break;
            }
        }

        return false;
    }
}
