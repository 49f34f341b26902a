using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using Shmipc.Channels;
using Shmipc.Channels.Tests.TestSupport;
using Shmipc.Reactive.Tests.Peer;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Reactive.Tests.CrossProcess;

/// <summary>
/// This process (A, the server) publishes typed items; the peer exe (B, the client) composes an Rx pipeline over them
/// and sends the results back on a second stream.
/// </summary>
public class CrossProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private static readonly IShmipcCodec<Reading> ReadingCodec = ShmipcCodecs.Json(PeerJson.Default.Reading);
    private static readonly IShmipcCodec<Summary> SummaryCodec = ShmipcCodecs.Json(PeerJson.Default.Summary);

    private static Reading MakeReading(int i) => new(i, (i * 37) % 101, $"r{i}");

    [Fact]
    public async Task The_peer_pipeline_of_Where_Select_Buffer_Scan_returns_every_result_in_order()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, SessionPair.ServerOptions());
        using var peer = PeerProcess.Start(output, "pipeline", path.Path);
        var (items, results) = await AcceptStreamsAsync(listener, cts.Token);

        const int Count = 1000;
        var receiving = results.Observe(SummaryCodec).ToList().ToTask(cts.Token);
        await Observable.Range(1, Count).Select(MakeReading).WriteTo(items, ReadingCodec, cts.Token);
        var summaries = await receiving;

        // The same pipeline computed here with plain LINQ.
        var kept = Enumerable.Range(1, Count).Select(MakeReading).Where(r => r.Value % 3 != 0).Select(r => r.Value * 10).ToArray();
        var batches = kept.Chunk(Pipelines.BatchSize).ToArray();
        Assert.Equal(batches.Length, summaries.Count);
        long sum = 0;
        var count = 0;
        for (var i = 0; i < batches.Length; i++)
        {
            sum += batches[i].Sum();
            count += batches[i].Length;
            Assert.Equal(i + 1, summaries[i].Batches);
            Assert.Equal(count, summaries[i].Count);
            Assert.Equal(sum, summaries[i].Sum);
            Assert.Equal(batches[i], summaries[i].LastBatch);
            Assert.Null(summaries[i].Error);
        }

        Assert.Equal(0, await peer.WaitForExitAsync(cts.Token));
    }

    [Fact]
    public async Task An_error_in_the_publishing_pipeline_reaches_the_peer_as_OnError_with_the_reason()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, SessionPair.ServerOptions());
        using var peer = PeerProcess.Start(output, "pipeline", path.Path);
        var (items, results) = await AcceptStreamsAsync(listener, cts.Token);

        var receiving = results.Observe(SummaryCodec).ToList().ToTask(cts.Token);
        var source = Observable.Range(1, 10).Select(i => i == 9 ? throw new InvalidDataException("sensor 9 unplugged") : MakeReading(i));
        var writeError = await Assert.ThrowsAsync<InvalidDataException>(() => source.WriteTo(items, ReadingCodec, cts.Token));
        Assert.Equal("sensor 9 unplugged", writeError.Message);
        var summaries = await receiving;

        // Items 1..8 got through (two full batches of the kept ones at most), then the peer's last word is the error.
        var last = summaries[^1];
        Assert.NotNull(last.Error);
        Assert.StartsWith($"{ShmipcErrorCode.StreamAborted}|", last.Error, StringComparison.Ordinal);
        Assert.Contains($"stream {items.Id}", last.Error, StringComparison.Ordinal);
        Assert.Contains("System.IO.InvalidDataException: sensor 9 unplugged", last.Error, StringComparison.Ordinal);
        var keptBeforeError = Enumerable.Range(1, 8).Select(MakeReading).Count(r => r.Value % 3 != 0);
        Assert.Equal(keptBeforeError / Pipelines.BatchSize, summaries.Count - 1);
        Assert.Equal(0, await peer.WaitForExitAsync(cts.Token));
    }

    [Fact]
    public async Task A_slow_peer_consumer_holds_the_producer_back_with_bounded_memory_and_loses_nothing()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, SessionPair.ServerOptions());
        using var peer = PeerProcess.Start(output, "slow", path.Path);
        var session = await listener.AcceptAsync(cts.Token);
        var items = await session.AcceptStreamAsync(cts.Token);
        Assert.Equal(2u, items.Id);

        // Items of ~6 KB, one 16 KiB slice each; the peer's region holds about 60. 150 of them would overflow it
        // (and fall back to the socket) if the writer did not wait for the slow consumer (prefetch 8).
        const int Count = 150;
        const int Capacity = 8;
        var payload = new string('p', 6000);
        var writer = items.AsObserver(ReadingCodec, Capacity);
        var maxPending = 0;
        await Task.Run(() =>
        {
            for (var i = 1; i <= Count; i++)
            {
                writer.OnNext(new Reading(i, i, payload));
                maxPending = Math.Max(maxPending, writer.PendingCount);
            }

            writer.OnCompleted();
        }).WaitAsync(cts.Token);
        await writer.Completion.WaitAsync(cts.Token);

        var results = await session.AcceptStreamAsync(cts.Token);
        var report = await results.Observe(ShmipcCodecs.Json(PeerJson.Default.SlowReport)).SingleAsync().ToTask(cts.Token);
        output.WriteLine($"report: {report}, max pending here: {maxPending}");

        Assert.Null(report.Error);
        Assert.Equal(Count, report.Count);
        Assert.True(report.InOrder);
        Assert.InRange(report.MaxUnread, 0, 8);
        Assert.Equal(0, report.FallbackReads);
        Assert.Equal(0, session.FallbackWriteCount);
        Assert.Equal(Capacity, maxPending);
        Assert.Equal(0, await peer.WaitForExitAsync(cts.Token));
    }

    private static async Task<(ShmipcStream Items, ShmipcStream Results)> AcceptStreamsAsync(ShmipcListener listener, CancellationToken ct)
    {
        var session = await listener.ObserveSessions().FirstAsync().ToTask(ct);

        // The peer opens stream 2 for items and stream 3 for results; they become visible in either order.
        var streams = await session.ObserveStreams().Take(2).ToList().ToTask(ct);
        return (streams.Single(s => s.Id == 2), streams.Single(s => s.Id == 3));
    }
}
