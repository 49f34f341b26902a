using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using Shmipc.Channels;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;

namespace Shmipc.Reactive.Tests.InProcess;

/// <summary>Named streams: <c>OpenStream(name)</c> on the client, <c>AcceptStreamAsync(name)</c> on the server.</summary>
public class NamedStreamTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Streams_are_accepted_by_name_whatever_order_they_arrive_in()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);

        // "b" speaks first; the server asks for "a" first.
        var b = pair.Client.OpenStream("b");
        var a = pair.Client.OpenStream("a");
        Assert.True(a.Id > b.Id);
        await b.WriteAsync(Encoding.UTF8.GetBytes("to b"), cts.Token);
        await a.WriteAsync(Encoding.UTF8.GetBytes("to a"), cts.Token);

        var acceptedA = await pair.Server.AcceptStreamAsync("a", cts.Token);
        var acceptedB = await pair.Server.AcceptStreamAsync("b", cts.Token);
        Assert.Equal(a.Id, acceptedA.Id);
        Assert.Equal(b.Id, acceptedB.Id);

        // The name message was taken off: the first message read is the first one the user wrote.
        using (var first = await acceptedA.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("to a", Encoding.UTF8.GetString(first.Data));
        }

        using (var first = await acceptedB.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("to b", Encoding.UTF8.GetString(first.Data));
        }
    }

    [Fact]
    public async Task A_caller_waiting_for_a_name_gets_it_when_it_arrives_and_equal_names_come_in_order()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var waiting = pair.Server.AcceptStreamAsync("late", cts.Token).AsTask();
        var other = pair.Client.OpenStream("other");
        var first = pair.Client.OpenStream("late");
        var second = pair.Client.OpenStream("late");

        Assert.Equal(first.Id, (await waiting).Id);
        Assert.Equal(second.Id, (await pair.Server.AcceptStreamAsync("late", cts.Token)).Id);
        Assert.Equal(other.Id, (await pair.Server.AcceptStreamAsync("other", cts.Token)).Id);
    }

    [Fact]
    public async Task A_stream_opened_without_a_name_is_accepted_with_the_empty_name_and_keeps_its_first_message()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var plain = pair.Client.OpenStream();
        await plain.WriteAsync(Encoding.UTF8.GetBytes("hello"), cts.Token);

        var accepted = await pair.Server.AcceptStreamAsync(string.Empty, cts.Token);
        Assert.Equal(plain.Id, accepted.Id);
        using var message = await accepted.Input.ReadAsync(cts.Token);
        Assert.Equal("hello", Encoding.UTF8.GetString(message.Data));
    }

    [Fact]
    public async Task A_cancelled_accept_leaves_the_stream_for_the_next_call()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        using (var cancel = new CancellationTokenSource())
        {
            var pending = pair.Server.AcceptStreamAsync("x", cancel.Token).AsTask();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        }

        var x = pair.Client.OpenStream("x");
        Assert.Equal(x.Id, (await pair.Server.AcceptStreamAsync("x", cts.Token)).Id);
    }

    [Fact]
    public async Task Accepting_on_a_closed_session_fails_with_the_reason()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var pending = pair.Server.AcceptStreamAsync("never", cts.Token).AsTask();
        await pair.Server.DisposeAsync();

        await Assert.ThrowsAsync<ShmipcException>(() => pending.WaitAsync(cts.Token));
        await Assert.ThrowsAsync<ShmipcException>(async () => await pair.Server.AcceptStreamAsync("later", cts.Token));
        Assert.ThrowsAny<Exception>(() => pair.Server.OpenStream("any"));
    }

    [Fact]
    public async Task A_named_stream_accepted_without_asking_its_name_still_carries_a_typed_sequence()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream("numbers");
        var writing = Observable.Range(1, 5).WriteTo(stream, IntCodec.Instance, cts.Token);

        // Plain accept: the name message is still on the stream, and Observe skips it.
        var accepted = await pair.AcceptAsync(stream, cts.Token);
        var values = await accepted.Observe(IntCodec.Instance).ToList().ToTask(cts.Token);
        await writing;
        Assert.Equal([1, 2, 3, 4, 5], values);
    }

    [Fact]
    public async Task A_named_stream_the_client_observes_is_written_by_the_server()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var replies = pair.Client.OpenStream("replies");
        var receiving = replies.Observe(IntCodec.Instance).ToList().ToTask(cts.Token);

        var accepted = await pair.Server.AcceptStreamAsync("replies", cts.Token);
        await Observable.Range(10, 3).WriteTo(accepted, IntCodec.Instance, cts.Token);
        Assert.Equal([10, 11, 12], await receiving);
    }

    [Fact]
    public async Task Names_are_checked()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        Assert.Throws<ArgumentException>(() => pair.Client.OpenStream(string.Empty));
        Assert.Throws<ArgumentNullException>(() => pair.Client.OpenStream(null!));
        Assert.Throws<ArgumentException>(() => pair.Client.OpenStream(new string('n', 1025)));
        Assert.Throws<ArgumentNullException>(() => ShmipcObservable.OpenStream(null!, "x"));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await pair.Server.AcceptStreamAsync(null!, cts.Token));
        Assert.Equal(0, pair.Client.ActiveStreamCount);
    }
}
