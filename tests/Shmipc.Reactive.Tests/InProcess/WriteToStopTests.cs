using System.Diagnostics;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using Shmipc.Channels;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Reactive.Tests.InProcess;

/// <summary>
/// <c>WriteTo</c> over synchronous sources (which push everything inside <c>Subscribe</c>), finite and infinite, must
/// stop on cancellation and on a dead peer as promptly as over an asynchronous source, not when the source ends.
/// </summary>
public class WriteToStopTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // The target is well under a second; the bound leaves room for a heavily loaded machine. Without the fix these
    // tests take as long as the source (tens of seconds for Range(0, int.MaxValue)) or never end (Repeat).
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(2);

    public static TheoryData<string> SynchronousSources => new() { "Range", "Repeat", "Generate", "Enumerable" };

    [Theory]
    [MemberData(nameof(SynchronousSources))]
    public async Task Cancelling_WriteTo_over_a_synchronous_source_stops_it_promptly(string kind)
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var writerCts = new CancellationTokenSource();
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var pushed = 0L;
        var writing = Source(kind).Do(_ => Interlocked.Increment(ref pushed)).WriteTo(stream, IntCodec.Instance, writerCts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var received = 0;
        var observing = accepted.Observe(IntCodec.Instance).Do(_ => received++).ToTask(cts.Token);
        await WaitUntilAsync(() => Volatile.Read(ref received) > 200, cts.Token);

        var cancelledAt = Stopwatch.GetTimestamp();
        await writerCts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing.WaitAsync(cts.Token));
        var elapsed = Stopwatch.GetElapsedTime(cancelledAt);
        output.WriteLine($"{kind}: WriteTo ended {elapsed.TotalMilliseconds:0} ms after the cancellation ({Volatile.Read(ref pushed)} items pushed)");
        Assert.True(elapsed < StopBound, $"WriteTo ended {elapsed.TotalMilliseconds:0} ms after the cancellation");

        var error = await Assert.ThrowsAsync<ShmipcException>(() => observing);
        Assert.Equal(ShmipcErrorCode.StreamAborted, error.ErrorCode);

        // The source itself was stopped: it pushes nothing more.
        var after = Volatile.Read(ref pushed);
        await Task.Delay(200, cts.Token);
        Assert.True(Volatile.Read(ref pushed) - after <= 1, "the source kept running after WriteTo ended");
    }

    [Theory]
    [MemberData(nameof(SynchronousSources))]
    public async Task Cancelling_WriteTo_while_nobody_reads_stops_a_synchronous_source_promptly(string kind)
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var writerCts = new CancellationTokenSource();
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var pushed = 0L;
        var writing = Source(kind).Do(_ => Interlocked.Increment(ref pushed)).WriteTo(stream, IntCodec.Instance, writerCts.Token);

        // No observer grants credits: the writer's queue fills and the source blocks in OnNext.
        await WaitUntilAsync(() => Volatile.Read(ref pushed) > 32, cts.Token);
        var cancelledAt = Stopwatch.GetTimestamp();
        await writerCts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing.WaitAsync(cts.Token));
        var elapsed = Stopwatch.GetElapsedTime(cancelledAt);
        output.WriteLine($"{kind}: WriteTo ended {elapsed.TotalMilliseconds:0} ms after the cancellation");
        Assert.True(elapsed < StopBound, $"WriteTo ended {elapsed.TotalMilliseconds:0} ms after the cancellation");
    }

    [Theory]
    [MemberData(nameof(SynchronousSources))]
    public async Task A_peer_that_goes_away_stops_WriteTo_over_a_synchronous_source_promptly(string kind)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var writing = Source(kind).WriteTo(stream, IntCodec.Instance, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);
        var received = 0;
        using var subscription = accepted.Observe(IntCodec.Instance).Subscribe(_ => received++, _ => { });
        await WaitUntilAsync(() => Volatile.Read(ref received) > 200, cts.Token);

        var goneAt = Stopwatch.GetTimestamp();
        await pair.Server.DisposeAsync();
        await Assert.ThrowsAsync<ShmipcException>(() => writing.WaitAsync(cts.Token));
        var elapsed = Stopwatch.GetElapsedTime(goneAt);
        output.WriteLine($"{kind}: WriteTo failed {elapsed.TotalMilliseconds:0} ms after the peer went away");
        Assert.True(elapsed < StopBound, $"WriteTo failed {elapsed.TotalMilliseconds:0} ms after the peer went away");
    }

    [Fact]
    public async Task A_source_whose_Subscribe_throws_fails_WriteTo_with_its_exception_and_the_other_side_sees_it()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var stream = pair.Client.OpenStream();
        var source = new ThrowingSource();
        var writing = source.WriteTo(stream, IntCodec.Instance, cts.Token);
        var accepted = await pair.AcceptAsync(stream, cts.Token);

        var error = await Assert.ThrowsAsync<ShmipcException>(() => accepted.Observe(IntCodec.Instance).ToTask(cts.Token));
        Assert.Equal(ShmipcErrorCode.StreamAborted, error.ErrorCode);
        Assert.Contains("no subscriptions today", error.Message, StringComparison.Ordinal);
        var writeError = await Assert.ThrowsAsync<InvalidOperationException>(() => writing);
        Assert.Equal("no subscriptions today", writeError.Message);
    }

    /// <summary>Synchronous sources on their default (current-thread) scheduler, all practically endless.</summary>
    internal static IObservable<int> Source(string kind) => kind switch
    {
        "Range" => Observable.Range(0, int.MaxValue),
        "Repeat" => Observable.Repeat(7),
        "Generate" => Observable.Generate(0, _ => true, i => i + 1, i => i),
        _ => Endless().ToObservable(),
    };

    private static IEnumerable<int> Endless()
    {
        for (var i = 0; ; i++)
        {
            yield return i;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(5, ct);
        }
    }

    private sealed class ThrowingSource : IObservable<int>
    {
        public IDisposable Subscribe(IObserver<int> observer) => throw new InvalidOperationException("no subscriptions today");
    }
}
