using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Shmipc.Channels.Tests.CrossProcess;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// Leases dropped without Dispose: the garbage collector finds them, the session reports them (log and counters) and
/// their slices return to the shared free lists, so the region — and a writer that had fallen back — recover.
/// </summary>
public sealed class LeakDetectionTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private const int Count = 40;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Undisposed_received_leases_are_reported_and_their_slices_come_back()
    {
        _accounting.ExpectLeakedLeases(Count);
        using var logs = new CapturingLoggerFactory();
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { LoggerFactory = logs });
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, TinyOptions(), cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();
        var free = server.Statistics.SlicesFree;

        for (var i = 0; i < Count; i++)
        {
            await stream.WriteAsync(ExhaustionPolicyTests.Payload(i), cts.Token);
        }

        var accepted = await server.AcceptStreamAsync(cts.Token);
        await WaitForAsync(() => accepted.Input.Count == Count, "the messages to arrive");
        ReadAndDrop(accepted, Count);
        Assert.Equal(Count, server.Statistics.LeasesHeld);
        Assert.Equal(free - Count, server.Statistics.SlicesFree);

        await WaitForAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return server.Statistics.LeasesLeaked == Count;
            },
            "the dropped leases to be collected");

        var statistics = server.Statistics;
        Assert.Equal(Count, statistics.SlicesReclaimed);
        Assert.Equal(0, statistics.LeasesHeld);
        Assert.Equal(0, statistics.SlicesHeld);
        Assert.Equal(free, statistics.SlicesFree);
        var warnings = logs.Lines.Where(l => l.Level == LogLevel.Warning && l.Message.Contains("garbage-collected without Dispose", StringComparison.Ordinal)).ToList();
        Assert.Equal(Count, warnings.Count);
        Assert.Contains($"stream {stream.Id}", warnings[0].Message, StringComparison.Ordinal);
        Assert.Contains("TrackLeaseOrigins", warnings[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_TrackLeaseOrigins_the_report_says_where_the_lease_was_read()
    {
        _accounting.ExpectLeakedLeases(1);
        using var logs = new CapturingLoggerFactory();
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { LoggerFactory = logs, TrackLeaseOrigins = true });
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, TinyOptions(), cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();
        await stream.WriteAsync(ExhaustionPolicyTests.Payload(1), cts.Token);
        var accepted = await server.AcceptStreamAsync(cts.Token);
        await WaitForAsync(() => accepted.Input.Count == 1, "the message to arrive");
        ReadAndDrop(accepted, 1);

        await WaitForAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return server.Statistics.LeasesLeaked == 1;
            },
            "the dropped lease to be collected");
        var warning = Assert.Single(logs.Lines, l => l.Message.Contains("garbage-collected without Dispose", StringComparison.Ordinal));
        Assert.Contains("It was read at:", warning.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(ReadAndDrop), warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_writer_that_fell_back_because_of_leaked_leases_returns_to_shared_memory_once_they_are_collected()
    {
        const int Burst = 70;
        _accounting.ExpectLeakedLeases(Burst);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, TinyOptions(), cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();

        // 70 messages against 62 usable slices, none disposed by the reader: the last ones fall back.
        for (var i = 0; i < Burst; i++)
        {
            await stream.WriteAsync(ExhaustionPolicyTests.Payload(i), cts.Token);
        }

        var accepted = await server.AcceptStreamAsync(cts.Token);
        await WaitForAsync(() => accepted.Input.Count == Burst, "the burst to arrive");
        ReadAndDrop(accepted, Burst);
        Assert.True(stream.IsInFallback);
        await WaitForAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return server.Statistics.LeasesLeaked == Burst;
            },
            "the dropped leases to be collected");

        // The server's answer to the client's "I order fallback frames" may still be on its way.
        await WaitForAsync(() => client.Engine.PeerOrdersFallback, "the server to announce ordered fallback");
        var fallbacks = client.FallbackWriteCount;
        Assert.True(fallbacks > 0);
        for (var i = 0; i < 20; i++)
        {
            await stream.WriteAsync(ExhaustionPolicyTests.Payload(i), cts.Token);
            using var message = await accepted.Input.ReadAsync(cts.Token);
        }

        Assert.Equal(fallbacks, client.FallbackWriteCount);
        Assert.False(stream.IsInFallback);
    }

    [Fact]
    public async Task An_undisposed_rented_lease_is_reported_with_where_it_was_rented_and_its_slices_come_back()
    {
        _accounting.ExpectLeakedLeases(1);
        using var logs = new CapturingLoggerFactory();
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        using var cts = new CancellationTokenSource(Timeout);
        var options = TinyOptions();
        options.LoggerFactory = logs;
        options.TrackLeaseOrigins = true;
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();
        var free = client.Statistics.SlicesFree;

        RentWriteAndDrop(stream, 3);
        Assert.Equal(free - 3, client.Statistics.SlicesFree);
        Assert.Equal(1, client.Statistics.LeasesHeld);
        Assert.Equal(3, client.Statistics.SlicesHeld);

        await WaitForAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return client.Statistics.LeasesLeaked == 1;
            },
            "the dropped lease to be collected");
        var statistics = client.Statistics;
        Assert.Equal(3, statistics.SlicesReclaimed);
        Assert.Equal(free, statistics.SlicesFree);
        Assert.Equal(0, statistics.LeasesHeld);
        var warning = Assert.Single(logs.Lines, l => l.Message.Contains("garbage-collected without Dispose", StringComparison.Ordinal));
        Assert.Contains("a rented lease", warning.Message, StringComparison.Ordinal);
        Assert.Contains("It was rented at:", warning.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RentWriteAndDrop), warning.Message, StringComparison.Ordinal);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentWriteAndDrop(ShmipcStream stream, int slices)
    {
        var lease = stream.Rent();
        for (var i = 0; i < slices; i++)
        {
            var span = lease.GetSpan();
            span.Fill((byte)i);
            lease.Advance(span.Length);
        }
    }

    // Not inlined, so no lease outlives this frame in a register or a hoisted local.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReadAndDrop(ShmipcStream stream, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(stream.Input.TryRead(out var lease));
            Assert.True(lease.Length > 0);
        }
    }

    private static Task WaitForAsync(Func<bool> condition, string what) => Messages.EventuallyAsync(condition, Timeout, what);

    private ShmipcClientOptions TinyOptions() => new()
    {
        BufferCapacity = 1024 * 1024,
        SizeClasses = [new(16 * 1024, 100)],
        PathPrefix = _accounting.Prefix(),
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
