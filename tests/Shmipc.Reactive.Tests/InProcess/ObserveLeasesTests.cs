using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using System.Threading.Channels;
using Shmipc.Channels;
using Shmipc.Channels.Tests.TestSupport;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;

namespace Shmipc.Reactive.Tests.InProcess;

/// <summary>The raw views: ObserveLeases, ObserveStreams, ObserveSessions over real sessions.</summary>
public class ObserveLeasesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Leases_arrive_in_order_and_the_sequence_completes_when_the_peer_closes()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        for (var i = 0; i < 50; i++)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"m{i}"), cts.Token);
        }

        var accepted = await pair.AcceptAsync(stream, cts.Token);
        stream.Output.Complete();

        // The observer owns each lease: read it and dispose it.
        var texts = await accepted.ObserveLeases()
            .Select(lease =>
            {
                using (lease)
                {
                    Assert.Equal(stream.Id, lease.StreamId);
                    return Encoding.UTF8.GetString(lease.Data);
                }
            })
            .ToList()
            .ToTask(cts.Token);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}"), texts);
        accepted.Dispose();
    }

    [Fact]
    public async Task A_failed_session_ends_the_sequence_with_its_ShmipcException()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        await stream.WriteAsync(new byte[] { 1 }, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var observing = accepted.ObserveLeases().Do(l => l.Dispose()).ToTask(cts.Token);
        await accepted.Session.DisposeAsync();

        var error = await Assert.ThrowsAsync<ShmipcException>(() => observing);
        Assert.Equal(ShmipcErrorCode.SessionClosed, error.ErrorCode);
    }

    [Fact]
    public async Task An_orderly_close_of_the_peer_session_completes_the_sequence()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        await stream.WriteAsync(new byte[] { 1 }, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var observing = accepted.ObserveLeases().Select(l => { using (l) { return l.Length; } }).ToList().ToTask(cts.Token);
        await pair.Client.DisposeAsync();

        Assert.Equal([1], await observing);
    }

    [Fact]
    public async Task Unsubscribing_stops_reading_and_unread_messages_stay_with_the_stream_until_it_is_disposed()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var before = await SliceProbe.CountFreeSlicesAsync(pair, cts.Token);
        var stream = pair.Client.OpenStream();
        async Task WriteAsync(int i)
        {
            var message = new byte[8000];
            message[0] = (byte)i;
            await stream.WriteAsync(message, cts.Token);
        }

        // Subscribe while only the first message is there, so Take's subscription is wired up before the fifth
        // message can arrive. (With five or more messages already readable, Rx itself can hand Take a sixth one
        // before Take holds the disposable that stops us: an operator cannot see that race.)
        await WriteAsync(0);
        var accepted = await pair.AcceptAsync(stream, cts.Token);
        var firstFiveTask = accepted.ObserveLeases()
            .Take(5)
            .Select(l =>
            {
                using (l)
                {
                    return l.Data.FirstSpan[0];
                }
            })
            .ToList()
            .ToTask(cts.Token);
        for (var i = 1; i < 20; i++)
        {
            await WriteAsync(i);
        }

        Assert.Equal([0, 1, 2, 3, 4], await firstFiveTask);

        // Reading resumes where the subscription stopped: nothing was skipped; the rest is recycled with the stream.
        using (var sixth = await accepted.Input.ReadAsync(cts.Token))
        {
            Assert.Equal(5, sixth.Data.FirstSpan[0]);
        }

        accepted.Dispose();
        stream.Dispose();

        Assert.Equal(before, await SliceProbe.CountFreeSlicesAsync(pair, cts.Token));
    }

    [Fact]
    public async Task Sessions_and_incoming_streams_are_observable_and_complete_with_their_source()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        var listener = ShmipcListener.Bind(path.Path, SessionPair.ServerOptions());
        var sessions = listener.ObserveSessions().Replay();
        using var connection = sessions.Connect();
        var sessionsDone = sessions.ToList().ToTask(cts.Token);

        await using var c1 = await ShmipcClient.ConnectAsync(path.Path, SessionPair.SmallRegion(), cts.Token);
        await using var c2 = await ShmipcClient.ConnectAsync(path.Path, SessionPair.SmallRegion(), cts.Token);
        var server1 = await sessions.FirstAsync().ToTask(cts.Token);
        var streams = server1.ObserveStreams().Replay();
        using var streamConnection = streams.Connect();

        var s = c1.OpenStream();
        await s.WriteAsync(new byte[] { 42 }, cts.Token);
        var incoming = await streams.FirstAsync().ToTask(cts.Token);
        Assert.Equal(s.Id, incoming.Id);
        incoming.Dispose();

        await listener.DisposeAsync();
        var all = await sessionsDone;
        Assert.Equal(2, all.Count);
        var streamError = await Record.ExceptionAsync(() => streams.LastOrDefaultAsync().ToTask(cts.Token));
        Assert.True(streamError is null or ShmipcException, $"unexpected {streamError}");
    }
}
