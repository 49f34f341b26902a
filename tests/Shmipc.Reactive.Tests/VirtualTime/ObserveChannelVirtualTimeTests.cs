using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Threading.Channels;
using Shmipc.Channels;
using Shmipc.Reactive.Linq;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;

namespace Shmipc.Reactive.Tests.VirtualTime;

/// <summary>
/// The channel → observable operator behind ObserveLeases, ObserveSessions and ObserveStreams, on virtual time: a
/// HistoricalScheduler writes to an in-memory channel at chosen times. The channel resumes its reader synchronously and
/// the scheduler runs on a pool thread, so each notification happens inside the scheduled action, at its virtual time.
/// </summary>
public class ObserveChannelVirtualTimeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static Channel<int> NewChannel() =>
        Channel.CreateUnbounded<int>(new UnboundedChannelOptions { AllowSynchronousContinuations = true, SingleWriter = true });

    private static Recorded<int> OnNext(long t, int v) => new(t, Notification.CreateOnNext(v));

    private static Recorded<int> OnCompleted(long t) => new(t, Notification.CreateOnCompleted<int>());

    private static void At(HistoricalScheduler s, long ticks, Action action) =>
        s.Schedule(new DateTimeOffset(ticks, TimeSpan.Zero), action);

    private static Task RunAsync(HistoricalScheduler s) => Task.Run(s.Start).WaitAsync(Timeout);

    [Fact]
    public async Task Items_are_delivered_at_the_virtual_time_they_are_written_and_a_batch_in_one_go()
    {
        var scheduler = new HistoricalScheduler();
        var channel = NewChannel();
        var observer = new RecordingObserver<int>(scheduler);
        using var subscription = new ObserveChannel<int>.Producer(channel.Reader, null).Subscribe(observer);
        var seenBeforeNextAction = -1;
        At(scheduler, 100, () => channel.Writer.TryWrite(1));
        At(scheduler, 200, () =>
        {
            channel.Writer.TryWrite(2);
            channel.Writer.TryWrite(3);
            channel.Writer.TryWrite(4);
        });
        At(scheduler, 201, () => seenBeforeNextAction = observer.Messages.Count);
        At(scheduler, 300, () => channel.Writer.TryComplete());

        await RunAsync(scheduler);

        Assert.Equal([OnNext(100, 1), OnNext(200, 2), OnNext(200, 3), OnNext(200, 4), OnCompleted(300)], observer.Messages);
        Assert.Equal(4, seenBeforeNextAction);
        Assert.Empty(observer.Violations);
    }

    [Fact]
    public async Task Time_based_operators_compose_over_the_channel_on_virtual_time()
    {
        var scheduler = new HistoricalScheduler();
        var channel = NewChannel();
        var observer = new RecordingObserver<string>(scheduler);
        using var subscription = new ObserveChannel<int>.Producer(channel.Reader, null)
            .Buffer(TimeSpan.FromTicks(100), scheduler)
            .Select(b => string.Join(",", b))
            .Subscribe(observer);
        At(scheduler, 50, () => channel.Writer.TryWrite(1));
        At(scheduler, 70, () => channel.Writer.TryWrite(2));
        At(scheduler, 150, () => channel.Writer.TryWrite(3));
        At(scheduler, 250, () => channel.Writer.TryComplete());

        await RunAsync(scheduler);

        Assert.Equal(
            [
                new Recorded<string>(100, Notification.CreateOnNext("1,2")),
                new Recorded<string>(200, Notification.CreateOnNext("3")),
                new Recorded<string>(250, Notification.CreateOnNext(string.Empty)),
                new Recorded<string>(250, Notification.CreateOnCompleted<string>()),
            ],
            observer.Messages);
    }

    [Fact]
    public async Task A_failed_channel_ends_with_OnError_carrying_the_inner_exception_and_nothing_after()
    {
        var scheduler = new HistoricalScheduler();
        var channel = NewChannel();
        var observer = new RecordingObserver<int>(scheduler);
        var reason = new ShmipcException(ShmipcErrorCode.PeerClosed, "session x: the peer closed the connection.");
        using var subscription = new ObserveChannel<int>.Producer(channel.Reader, null).Subscribe(observer);
        At(scheduler, 100, () => channel.Writer.TryWrite(1));
        At(scheduler, 150, () => channel.Writer.TryComplete(new ChannelClosedException(reason)));

        await RunAsync(scheduler);

        Assert.Equal(2, observer.Messages.Count);
        Assert.Equal(OnNext(100, 1), observer.Messages[0]);
        Assert.Equal(150, observer.Messages[1].Time);
        Assert.Equal(NotificationKind.OnError, observer.Messages[1].Value.Kind);
        Assert.Same(reason, observer.Messages[1].Value.Exception);
        Assert.Empty(observer.Violations);
    }

    [Fact]
    public async Task Dispose_at_a_virtual_time_stops_delivery_and_leaves_later_items_unread()
    {
        var scheduler = new HistoricalScheduler();
        var channel = NewChannel();
        var observer = new RecordingObserver<int>(scheduler);
        var released = new List<int>();
        var subscription = new ObserveChannel<int>.Producer(channel.Reader, released.Add).Subscribe(observer);
        At(scheduler, 100, () => channel.Writer.TryWrite(1));
        At(scheduler, 150, subscription.Dispose);
        At(scheduler, 200, () => channel.Writer.TryWrite(2));
        At(scheduler, 300, () => channel.Writer.TryComplete());

        await RunAsync(scheduler);

        Assert.Equal([OnNext(100, 1)], observer.Messages);
        Assert.True(channel.Reader.TryRead(out var left));
        Assert.Equal(2, left);
        Assert.Empty(released);
    }

    [Fact]
    public async Task Dispose_inside_OnNext_stops_the_batch_without_reading_the_rest()
    {
        var scheduler = new HistoricalScheduler();
        var channel = NewChannel();
        var observer = new RecordingObserver<int>(scheduler);
        IDisposable? subscription = null;
        observer.OnNextHook = _ => subscription!.Dispose();
        subscription = new ObserveChannel<int>.Producer(channel.Reader, null).Subscribe(observer);
        At(scheduler, 100, () =>
        {
            channel.Writer.TryWrite(1);
            channel.Writer.TryWrite(2);
            channel.Writer.TryWrite(3);
        });

        await RunAsync(scheduler);

        Assert.Equal([OnNext(100, 1)], observer.Messages);
        Assert.Equal(2, channel.Reader.Count);
    }

    [Fact]
    public async Task An_exception_from_OnNext_goes_to_OnError_and_reading_stops()
    {
        var scheduler = new HistoricalScheduler();
        var channel = NewChannel();
        var observer = new RecordingObserver<int>(scheduler);
        var boom = new InvalidOperationException("observer bug");
        observer.OnNextHook = v =>
        {
            if (v == 2)
            {
                throw boom;
            }
        };
        using var subscription = new ObserveChannel<int>.Producer(channel.Reader, null).Subscribe(observer);
        At(scheduler, 100, () =>
        {
            channel.Writer.TryWrite(1);
            channel.Writer.TryWrite(2);
            channel.Writer.TryWrite(3);
        });
        At(scheduler, 200, () => channel.Writer.TryWrite(4));

        await RunAsync(scheduler);

        Assert.Equal(3, observer.Messages.Count);
        Assert.Equal([OnNext(100, 1), OnNext(100, 2)], observer.Messages.Take(2));
        Assert.Equal(new Recorded<int>(100, Notification.CreateOnError<int>(boom)), observer.Messages[2]);
        Assert.Empty(observer.Violations);
        Assert.Equal(2, channel.Reader.Count);
    }
}
