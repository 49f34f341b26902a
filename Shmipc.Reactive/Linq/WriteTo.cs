using Shmipc.Channels;

namespace Shmipc.Reactive.Linq;

/// <summary>
/// <c>IObservable&lt;T&gt;</c> → a stream: subscribes a <see cref="ShmipcStreamObserver{T}"/> to the source and
/// awaits its <see cref="ShmipcStreamObserver{T}.Completion"/>; the subscription is disposed when the writer is done,
/// whatever the outcome. The source is subscribed on the thread pool: a synchronous source pushes everything inside
/// <c>Subscribe</c>, blocking as the bounded queue fills, and that must not be the caller's thread (it may be the one
/// that is about to subscribe the other side).
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal static class WriteTo<T>
{
    public static async Task RunAsync(IObservable<T> source, ShmipcStream stream, IShmipcCodec<T> codec, int capacity, CancellationToken cancellationToken)
    {
        using var writer = new ShmipcStreamObserver<T>(stream, codec, capacity);
        using var registration = cancellationToken.Register(static w => ((ShmipcStreamObserver<T>)w!).Dispose(), writer);

        IDisposable? subscription = null;
        try
        {
            subscription = await Task.Run(() => source.Subscribe(writer), CancellationToken.None).ConfigureAwait(false);
            await writer.Completion.ConfigureAwait(false);
        }
        finally
        {
            subscription?.Dispose();
        }
    }
}
