using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Shmipc.Channels.Channels;

/// <summary>
/// <see cref="ChannelReader{T}.ReadAsync"/> without the .NET 10 loss on cancellation: a cancellable read must never
/// drop the item (a lease, a stream, a session) that a writer handed it as its token fired.
/// </summary>
/// <remarks>
/// .NET 10's channels (dotnet/runtime#132094, after #116021 made cancellation unlink waiting readers) can give an item to a
/// reader whose token has just fired: the reader ends with <see cref="OperationCanceledException"/> and the item is gone.
/// Measured here: a reader cancelling short reads lost 1 message in a few thousand under GC pressure
/// (ReaderDrainTests.Cancelled_reads_lose_no_message), and the lease's slices came back only through its finalizer.
/// <see cref="ChannelReader{T}.WaitToReadAsync"/> carries no item, and <see cref="ChannelReader{T}.TryRead"/> takes one
/// synchronously, so a cancelled wait loses nothing. Reads without a cancellable token keep the channel's own
/// <see cref="ChannelReader{T}.ReadAsync"/> (no race, and its pooled waiter allocates nothing).
/// </remarks>
internal static class LosslessRead
{
    /// <summary>Reads one item; throws what <see cref="ChannelReader{T}.ReadAsync"/> throws when the channel is done.</summary>
    public static ValueTask<T> ReadAsync<T>(ChannelReader<T> reader, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (reader.TryRead(out var item))
        {
            return new ValueTask<T>(item);
        }

        return cancellationToken.CanBeCanceled ? WaitThenReadAsync(reader, cancellationToken) : reader.ReadAsync(cancellationToken);
    }

    // Pooled builder: a reader that parks with a token does not allocate a state machine per item.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<T> WaitThenReadAsync<T>(ChannelReader<T> reader, CancellationToken cancellationToken)
    {
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.TryRead(out var item))
                {
                    return item;
                }
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The channel completed with an error: ReadAsync below reports it in its own form.
        }

        // Completed (and, unless an item raced in, empty): ReadAsync ends at once with the exception callers expect.
        return await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
