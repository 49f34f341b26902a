using System.Threading.Channels;

namespace Shmipc.Channels.Channels;

/// <summary>
/// A channel reader that hands out each item of an engine's channel as its public facade: the listener's sessions and a
/// session's incoming streams are channels of engine objects, read by users as channels of public objects.
/// </summary>
// Design: stateless besides the inner reader; every member forwards. The map is a cached facade lookup (one field read
// after the first call per item), so reading allocates nothing beyond what the inner channel does, except the state
// machine of a read that has to wait.
internal sealed class MappedChannelReader<TSource, TResult>(ChannelReader<TSource> inner, Func<TSource, TResult> map) : ChannelReader<TResult>
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
    public override bool TryRead(out TResult item)
    {
        if (inner.TryRead(out var source))
        {
            item = map(source);
            return true;
        }

        item = default!;
        return false;
    }

    /// <inheritdoc />
    public override bool TryPeek(out TResult item)
    {
        if (inner.TryPeek(out var source))
        {
            item = map(source);
            return true;
        }

        item = default!;
        return false;
    }

    /// <inheritdoc />
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        inner.WaitToReadAsync(cancellationToken);

    /// <inheritdoc />
    public override ValueTask<TResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        // LosslessRead: the inner channel's own cancellable ReadAsync can drop an item (dotnet/runtime#132094).
        var pending = LosslessRead.ReadAsync(inner, cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<TResult>(map(pending.Result)) : ReadSlowAsync(pending);
    }

    private async ValueTask<TResult> ReadSlowAsync(ValueTask<TSource> pending) => map(await pending.ConfigureAwait(false));
}
