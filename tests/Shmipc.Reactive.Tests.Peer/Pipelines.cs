using System.Reactive.Linq;
using Shmipc.Channels;

namespace Shmipc.Reactive.Tests.Peer;

/// <summary>The Rx pipeline the peer composes over the items it observes.</summary>
public static class Pipelines
{
    public const int BatchSize = 4;

    /// <summary>
    /// Drops values divisible by 3, scales the rest by 10, batches them by four and keeps a running summary; an error
    /// from the source becomes a last summary carrying its code and message.
    /// </summary>
    public static IObservable<Summary> Compose(IObservable<Reading> readings) =>
        readings
            .Where(r => r.Value % 3 != 0)
            .Select(r => r.Value * 10)
            .Buffer(BatchSize)
            .Scan(
                new Summary(0, 0, 0, [], null),
                (acc, batch) => new Summary(acc.Batches + 1, acc.Count + batch.Count, acc.Sum + batch.Sum(), [.. batch], null))
            .Catch((ShmipcException e) => Observable.Return(new Summary(-1, 0, 0, [], $"{e.ErrorCode}|{e.Message}")));
}
