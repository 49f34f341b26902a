using System.Reactive.Linq;
using Shmipc.Channels;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;

namespace Shmipc.Reactive.Tests;

public class ShmipcObservableArgumentTests
{
    [Fact]
    public async Task The_facade_rejects_null_and_out_of_range_arguments()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();

        Assert.Throws<ArgumentNullException>(() => ShmipcObservable.ObserveLeases(null!));
        Assert.Throws<ArgumentNullException>(() => ShmipcObservable.Observe<int>(null!, IntCodec.Instance));
        Assert.Throws<ArgumentNullException>(() => stream.Observe<int>(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Observe(IntCodec.Instance, prefetch: 0));
        Assert.Throws<ArgumentNullException>(() => ShmipcObservable.ObserveSessions(null!));
        Assert.Throws<ArgumentNullException>(() => ShmipcObservable.ObserveStreams(null!));
        Assert.Throws<ArgumentNullException>(() => ShmipcObservable.AsObserver<int>(null!, IntCodec.Instance));
        Assert.Throws<ArgumentNullException>(() => stream.AsObserver<int>(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.AsObserver(IntCodec.Instance, capacity: 0));
        Assert.Throws<ArgumentNullException>(() => { _ = ShmipcObservable.WriteTo(null!, stream, IntCodec.Instance); });
        Assert.Throws<ArgumentNullException>(() => { _ = Observable.Empty<int>().WriteTo(null!, IntCodec.Instance); });
        Assert.Throws<ArgumentNullException>(() => { _ = Observable.Empty<int>().WriteTo(stream, null!); });
        Assert.Throws<ArgumentNullException>(() => ShmipcCodecs.Json<int>((System.Text.Json.Serialization.Metadata.JsonTypeInfo<int>)null!));
        Assert.Throws<ArgumentNullException>(() => stream.ObserveLeases().Subscribe(null!));
        Assert.Throws<ArgumentNullException>(() => stream.Observe(IntCodec.Instance).Subscribe(null!));
        stream.Dispose();
    }
}
