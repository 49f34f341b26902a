using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using Shmipc.Channels;
using Shmipc.Reactive.Tests.Peer;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;

namespace Shmipc.Reactive.Tests.InProcess;

/// <summary>Observe(codec) against AsObserver/WriteTo over real sessions in this process.</summary>
public class TypedStreamTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static TheoryData<string[]> Strings => new()
    {
        new[] { "a", string.Empty, "héllo wörld ✓ 𝄞", new string('x', 40_000), "last" },
    };

    [Theory]
    [MemberData(nameof(Strings))]
    public async Task Strings_round_trip_in_order_then_complete(string[] items)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var writing = items.ToObservable().WriteTo(stream, ShmipcCodecs.Utf8, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var received = await accepted.Observe(ShmipcCodecs.Utf8).ToList().ToTask(cts.Token);
        await writing;

        Assert.Equal(items, received);
        Assert.Equal(0, pair.Client.FallbackWriteCount);
    }

    [Fact]
    public async Task Json_items_with_a_source_generated_context_round_trip_from_server_to_client()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var codec = ShmipcCodecs.Json(PeerJson.Default.Reading);
        var items = Enumerable.Range(1, 500).Select(i => new Reading(i, i * 7, new string((char)('a' + (i % 26)), i % 50))).ToArray();

        // The client observes (its first credit makes the stream visible to the server), the server writes.
        var stream = pair.Client.OpenStream();
        var receiving = stream.Observe(codec, prefetch: 8).ToList().ToTask(cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);
        await items.ToObservable().WriteTo(accepted, codec, cts.Token);
        var received = await receiving;

        Assert.Equal(items, received);
        Assert.Equal(0, pair.Server.FallbackWriteCount);
        Assert.Equal(0, pair.Client.FallbackWriteCount);
    }

    [Fact]
    public async Task Bytes_round_trip_including_empty_and_multi_slice_messages()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var items = new[] { 0, 1, 16 * 1024, 50_000 }.Select(n => Enumerable.Range(0, n).Select(i => (byte)(i * 31)).ToArray()).ToArray();
        var stream = pair.Client.OpenStream();
        var writing = items.ToObservable().WriteTo(stream, ShmipcCodecs.ByteArray, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var received = await accepted.Observe(ShmipcCodecs.Bytes).Select(m => m.ToArray()).ToList().ToTask(cts.Token);
        await writing;

        Assert.Equal(items, received);
    }

    [Fact]
    public async Task A_source_error_reaches_the_observer_as_StreamAborted_with_the_reason()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var source = new[] { "one", "two" }.ToObservable().Concat(Observable.Throw<string>(new InvalidOperationException("boom 42")));
        var writing = source.WriteTo(stream, ShmipcCodecs.Utf8, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var received = new List<string>();
        var error = await Assert.ThrowsAsync<ShmipcException>(
            () => accepted.Observe(ShmipcCodecs.Utf8).Do(received.Add).ToTask(cts.Token));

        Assert.Equal(["one", "two"], received);
        Assert.Equal(ShmipcErrorCode.StreamAborted, error.ErrorCode);
        Assert.Contains($"stream {stream.Id}", error.Message, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: boom 42", error.Message, StringComparison.Ordinal);
        var sent = await Assert.ThrowsAsync<InvalidOperationException>(() => writing);
        Assert.Equal("boom 42", sent.Message);
    }

    [Fact]
    public async Task A_message_the_codec_cannot_decode_ends_with_OnError_naming_the_stream_and_the_writer_is_told()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var source = Observable.Return(new byte[] { 0xFF, 0xFE, 0xFD }).Concat(Observable.Never<byte[]>());
        var writing = source.WriteTo(stream, ShmipcCodecs.ByteArray, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var error = await Assert.ThrowsAsync<ShmipcException>(() => accepted.Observe(ShmipcCodecs.Utf8).ToTask(cts.Token));

        Assert.Equal(ShmipcErrorCode.ProtocolViolation, error.ErrorCode);
        Assert.Contains($"stream {stream.Id}", error.Message, StringComparison.Ordinal);
        Assert.Contains("item 1", error.Message, StringComparison.Ordinal);
        Assert.IsType<DecoderFallbackException>(error.InnerException);
        var writerError = await Assert.ThrowsAsync<ShmipcException>(() => writing);
        Assert.Equal(ShmipcErrorCode.StreamClosed, writerError.ErrorCode);
        Assert.Contains("unsubscribed", writerError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exception_from_the_observer_goes_to_its_OnError_and_the_writer_stops()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var source = Observable.Range(1, 5).Concat(Observable.Never<int>());
        var writing = source.WriteTo(stream, IntCodec.Instance, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var seen = new List<int>();
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = accepted.Observe(IntCodec.Instance).Subscribe(
            v =>
            {
                seen.Add(v);
                if (v == 3)
                {
                    throw new ArithmeticException("observer bug at 3");
                }
            },
            e => failed.TrySetResult(e),
            () => failed.TrySetResult(new InvalidOperationException("completed")));

        var e = await failed.Task.WaitAsync(cts.Token);
        Assert.IsType<ArithmeticException>(e);
        Assert.Equal([1, 2, 3], seen);
        var writerError = await Assert.ThrowsAsync<ShmipcException>(() => writing);
        Assert.Equal(ShmipcErrorCode.StreamClosed, writerError.ErrorCode);
        Assert.Equal([1, 2, 3], seen);
    }

    [Fact]
    public async Task Cancelling_the_writer_aborts_the_sequence_on_the_other_side_and_cancels_the_task()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var writerCts = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var writing = Observable.Range(1, 3).Concat(Observable.Never<int>()).WriteTo(stream, IntCodec.Instance, writerCts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var received = new List<int>();
        var observing = accepted.Observe(IntCodec.Instance).Do(v =>
        {
            received.Add(v);
            if (v == 3)
            {
                writerCts.Cancel();
            }
        }).ToTask(cts.Token);

        var error = await Assert.ThrowsAsync<ShmipcException>(() => observing);
        Assert.Equal(ShmipcErrorCode.StreamAborted, error.ErrorCode);
        Assert.Contains("cancelled", error.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], received);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);
        Assert.True(writing.IsCanceled);
    }

    [Fact]
    public async Task The_Rx_grammar_holds_over_thousands_of_items_with_a_small_window()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token, SessionPair.SmallRegion(queueCapacity: 16));
        var stream = pair.Client.OpenStream();
        const int Count = 3000;
        var writing = Observable.Range(1, Count).WriteTo(stream, IntCodec.Instance, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var observer = new RecordingObserver<int>(System.Reactive.Concurrency.Scheduler.Default);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = accepted.Observe(IntCodec.Instance, prefetch: 3)
            .Finally(done.SetResult)
            .Subscribe(observer);
        await done.Task.WaitAsync(cts.Token);
        await writing;

        Assert.Empty(observer.Violations);
        var values = observer.Messages.Where(m => m.Value.Kind == System.Reactive.NotificationKind.OnNext).Select(m => m.Value.Value).ToArray();
        Assert.Equal(Enumerable.Range(1, Count), values);
        Assert.Equal(System.Reactive.NotificationKind.OnCompleted, observer.Messages[^1].Value.Kind);
    }

    [Fact]
    public async Task A_slow_observer_bounds_the_writer_queue_and_the_receive_window()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token, SessionPair.SmallRegion(queueCapacity: 16));
        const int Capacity = 4;
        const int Prefetch = 4;
        const int Count = 200;
        var stream = pair.Client.OpenStream();
        var writer = stream.AsObserver(IntCodec.Instance, Capacity);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        using var gate = new ManualResetEventSlim(false);
        var received = new List<int>();
        var maxUnread = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = accepted.Observe(IntCodec.Instance, Prefetch).Subscribe(
            v =>
            {
                gate.Wait(cts.Token);
                received.Add(v);
                maxUnread = Math.Max(maxUnread, accepted.Input.Count);
            },
            e => done.TrySetException(e),
            done.SetResult);

        var pushed = 0;
        var maxPending = 0;
        var producing = Task.Run(() =>
        {
            for (var i = 1; i <= Count; i++)
            {
                Volatile.Write(ref pushed, i);
                writer.OnNext(i);
                maxPending = Math.Max(maxPending, writer.PendingCount);
            }

            writer.OnCompleted();
        });

        // The observer holds item 1: the writer has sent its 4 credits' worth, queued 4 more, and blocks on the 9th.
        const int Blocked = Prefetch + Capacity + 1;
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref pushed) == Blocked, Timeout), $"pushed {pushed}");
        Assert.False(SpinWait.SpinUntil(() => Volatile.Read(ref pushed) > Blocked, TimeSpan.FromMilliseconds(200)), "the producer was not held back");
        Assert.Equal(Capacity, writer.PendingCount);
        Assert.False(producing.IsCompleted);

        gate.Set();
        await producing.WaitAsync(cts.Token);
        await done.Task.WaitAsync(cts.Token);
        await writer.Completion.WaitAsync(cts.Token);

        Assert.Equal(Enumerable.Range(1, Count), received);
        Assert.Equal(Capacity, maxPending);
        Assert.InRange(maxUnread, 0, Prefetch);
        Assert.Equal(0, pair.Client.FallbackWriteCount);
        Assert.Equal(0, pair.Server.FallbackWriteCount);
    }

    [Fact]
    public async Task Unsubscribing_mid_stream_releases_every_lease_on_both_sides()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var before = await SliceProbe.CountFreeSlicesAsync(pair, cts.Token);
        Assert.InRange(before, 40, 64);

        // Large items (one slice each) with a wide window, so many are in flight when the observer walks away.
        var payload = new byte[8000];
        var stream = pair.Client.OpenStream();
        var writing = Observable.Repeat(payload, 1000).WriteTo(stream, ShmipcCodecs.ByteArray, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);
        var firstThree = await accepted.Observe(ShmipcCodecs.ByteArray, prefetch: 24).Take(3).ToList().ToTask(cts.Token);
        Assert.Equal(3, firstThree.Count);

        // The writer ends when the observer's side has drained what was in flight and closed the stream.
        var error = await Assert.ThrowsAsync<ShmipcException>(() => writing);
        Assert.Equal(ShmipcErrorCode.StreamClosed, error.ErrorCode);

        var after = await SliceProbe.CountFreeSlicesAsync(pair, cts.Token);
        Assert.Equal(before, after);
    }
}
