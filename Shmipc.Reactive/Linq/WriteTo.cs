using Shmipc.Channels;

namespace Shmipc.Reactive.Linq;

/// <summary>
/// <c>IObservable&lt;T&gt;</c> → a stream: subscribes a <see cref="ShmipcStreamObserver{T}"/> to the source and
/// awaits its <see cref="ShmipcStreamObserver{T}.Completion"/>; the subscription is disposed when the writer is done,
/// whatever the outcome.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal static class WriteTo<T>
{
    public static async Task RunAsync(IObservable<T> source, ShmipcStream stream, IShmipcCodec<T> codec, int capacity, CancellationToken cancellationToken)
    {
        using var writer = new ShmipcStreamObserver<T>(stream, codec, capacity);
        using var registration = cancellationToken.Register(static w => ((ShmipcStreamObserver<T>)w!).Dispose(), writer);

        // A synchronous source pushes everything inside Subscribe (blocking on the bounded queue as it goes), so the
        // subscription is disposed only after Completion, not when Subscribe returns.
        using var subscription = source.Subscribe(writer);
        await writer.Completion.ConfigureAwait(false);
    }
}
