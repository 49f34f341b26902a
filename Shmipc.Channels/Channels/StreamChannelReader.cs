using System.Diagnostics;
using System.Threading.Channels;

namespace Shmipc.Channels.Channels;

/// <summary>
/// <see cref="ShmipcStream.Input"/>: the stream's inbound leases. Before a read parks, it polls for a short, bounded
/// time (the session's spin budget), so in request/response traffic the reply is usually picked up by the thread
/// that asked for it, without a hop through the thread pool.
/// </summary>
// Design: a thin wrapper over a single-writer unbounded Channel (the reactor thread writes, user threads read); all
// state lives in the inner channel. The spin is on the reader's own thread, bounded by spinTicks (0 in LowCpu mode),
// and yields the core on every round so the producer (the reactor, the peer) is not starved on small machines.
internal sealed class StreamChannelReader(ChannelReader<ShmLease> inner, long spinTicks) : ChannelReader<ShmLease>
{
    /// <inheritdoc />
    public override Task Completion => inner.Completion;

    /// <inheritdoc />
    public override bool CanCount => inner.CanCount;

    /// <inheritdoc />
    public override int Count => inner.Count;

    /// <inheritdoc />
    public override bool CanPeek => inner.CanPeek;

    /// <inheritdoc />
    public override bool TryRead(out ShmLease item) => inner.TryRead(out item);

    /// <inheritdoc />
    public override bool TryPeek(out ShmLease item) => inner.TryPeek(out item);

    /// <inheritdoc />
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (inner.Count > 0 || SpinUntilAvailable(cancellationToken))
        {
            return new ValueTask<bool>(true);
        }

        return inner.WaitToReadAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override ValueTask<ShmLease> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (inner.TryRead(out var item))
        {
            return new ValueTask<ShmLease>(item);
        }

        if (SpinUntilAvailable(cancellationToken) && inner.TryRead(out item))
        {
            return new ValueTask<ShmLease>(item);
        }

        return inner.ReadAsync(cancellationToken);
    }

    private bool SpinUntilAvailable(CancellationToken cancellationToken)
    {
        if (spinTicks <= 0)
        {
            return false;
        }

        var start = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested && !inner.Completion.IsCompleted)
        {
            // Count, not TryPeek: peeking marks the channel's queue segment as observed, and every later write
            // would then allocate a fresh segment (measured: ~50 B per message).
            if (inner.Count > 0)
            {
                return true;
            }

            if (Stopwatch.GetTimestamp() - start > spinTicks)
            {
                break;
            }

            Thread.Yield();
        }

        return false;
    }
}
