using Shmipc.Channels.Sessions;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Metrics;

/// <summary>The <c>Shmipc</c> meter: parity with shmipc-go's Monitor, per-session tags, gauges, and IMeterFactory.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ShmipcMeterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>shmipc-go stats.go / Monitor fields and the instrument each became.</summary>
    public static TheoryData<string, string> MonitorParity => new()
    {
        { "allocShmErrorCount", "shmipc.alloc_shm_errors" },
        { "fallbackWriteCount", "shmipc.fallback_writes" },
        { "fallbackReadCount", "shmipc.fallback_reads" },
        { "eventConnErrorCount", "shmipc.connection_errors" },
        { "queueFullErrorCount", "shmipc.queue_full" },
        { "recvPollingEventCount", "shmipc.sync_events_received" },
        { "sendPollingEventCount", "shmipc.sync_events_sent" },
        { "outFlowBytes", "shmipc.bytes_sent" },
        { "inFlowBytes", "shmipc.bytes_received" },
        { "hotRestartSuccessCount", "shmipc.hot_restarts" },
        { "hotRestartErrorCount", "shmipc.hot_restart_errors" },
        { "ActiveStreamCount", "shmipc.active_streams" },
        { "SendQueueCount/ReceiveQueueCount", "shmipc.queue.pending" },
        { "CapacityOfShareMemoryInBytes", "shmipc.shm.capacity" },
        { "AllInUsedShareMemoryInBytes", "shmipc.shm.in_use" },
        { "(slices in use)", "shmipc.slices.in_use" },
        { "(slices free)", "shmipc.slices.free" },
    };

    [Theory]
    [MemberData(nameof(MonitorParity))]
    public void Every_counter_of_shmipc_go_Monitor_has_an_instrument(string goName, string instrument)
    {
        using var factory = new TestMeterFactory();
        ShmipcInstruments.For(factory);
        using var recorded = new RecordedMeasurements(meter => meter.Scope == factory);

        Assert.True(recorded.Published.ContainsKey(instrument), $"{goName}: no instrument {instrument}");
        Assert.False(string.IsNullOrEmpty(recorded.Published[instrument].Description));
    }

    [Fact]
    public async Task Session_counters_and_gauges_are_tagged_with_session_and_role()
    {
        using var recorded = new RecordedMeasurements(meter => meter.Scope is null);
        using var path = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var listener = ShmipcListener.Bind(path.Path);
        var client = await ShmipcClient.ConnectAsync(path.Path, TestClientOptions.Small(TimeSpan.FromSeconds(10)), cts.Token);
        var server = await listener.AcceptAsync(cts.Token);
        string name = client.Name;
        Assert.Equal(name, server.Name);

        var stream = client.OpenStream();
        var sizes = new List<int> { 100, 2000, 5000 };
        foreach (var size in sizes)
        {
            await stream.WriteAsync(new byte[size], cts.Token);
        }

        // A writer sends a wake-up only to a peer that is not working (docs/PROTOCOL.md §6), and the server's reactor
        // holds the working flag while it spins (after the handshake, or while another session is busy). Once it has
        // parked, the next message wakes it: keep sending one-byte messages until one did, so the wake-up counters
        // below have something to count.
        var wakeDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (client.SyncEventsSent == 0 && DateTime.UtcNow < wakeDeadline)
        {
            await Task.Delay(10, cts.Token);
            await stream.WriteAsync(new byte[1], cts.Token);
            sizes.Add(1);
        }

        var accepted = await server.AcceptStreamAsync(cts.Token);
        var leases = new List<ShmLease>();
        for (int i = 0; i < sizes.Count; i++)
        {
            leases.Add(await accepted.Input.ReadAsync(cts.Token));
        }

        // Counters, pushed as it happened.
        Assert.Equal(sizes.Sum(), recorded.Sum("shmipc.bytes_sent", name, "client"));
        Assert.Equal(sizes.Sum(), recorded.Sum("shmipc.bytes_received", name, "server"));
        Assert.Equal(0, recorded.Sum("shmipc.bytes_sent", name, "server"));
        Assert.True(recorded.Sum("shmipc.sync_events_sent", name, "client") >= 1);
        // A reader that waits takes its messages from the queue itself, so the wake-up frame may still be in the
        // server's socket when the leases arrive: its count catches up once the reactor reads it.
        await CrossProcess.Messages.EventuallyAsync(
            () => recorded.Sum("shmipc.sync_events_received", name, "server") >= 1, TimeSpan.FromSeconds(10), "the server counted the wake-up");
        Assert.Equal(client.SyncEventsSent, recorded.Sum("shmipc.sync_events_sent", name, "client"));

        // Gauges, observed now: the server holds three leases, so their slices are in use.
        recorded.Observe();
        // (Slices move while we look: the client keeps spare slices, so only bounds and sums are exact.)
        var stats = server.Statistics;
        Assert.True(Single(recorded, "shmipc.slices.in_use", name, "server") >= 3);
        Assert.Equal(stats.SlicesTotal, Single(recorded, "shmipc.slices.in_use", name, "client") + Single(recorded, "shmipc.slices.free", name, "client"));
        Assert.Equal(1024L * 1024 - 14_336, Single(recorded, "shmipc.shm.capacity", name, "client")); // 502·1024 + 127·4096 (1 MiB less headers and slack)
        Assert.True(Single(recorded, "shmipc.shm.in_use", name, "server") >= sizes.Sum());
        Assert.Equal(1, Single(recorded, "shmipc.active_streams", name, "client"));
        Assert.Equal(1, Single(recorded, "shmipc.active_streams", name, "server"));
        var pending = recorded.Of("shmipc.queue.pending", name, "server");
        Assert.Equal(["receive", "send"], pending.Select(p => (string)p.Tags["shmipc.queue.direction"]!).Order());
        Assert.All(pending, p => Assert.Equal(0, p.Value));

        foreach (var lease in leases)
        {
            lease.Dispose();
        }

        // The client goes away: the server's session ends with a connection error; neither is observed any more.
        await client.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => server.Completion.WaitAsync(cts.Token));
        Assert.Equal(1, recorded.Sum("shmipc.connection_errors", name, "server"));
        Assert.Equal(0, recorded.Sum("shmipc.connection_errors", name, "client"));
        recorded.Clear();
        recorded.Observe();
        Assert.Empty(recorded.Of("shmipc.slices.in_use", name, "server"));
        Assert.Empty(recorded.Of("shmipc.slices.in_use", name, "client"));
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Meter_factory_from_the_options_gets_the_instruments()
    {
        using var factory = new TestMeterFactory();
        using var fromFactory = new RecordedMeasurements(meter => meter.Scope == factory);
        using var fromStatic = new RecordedMeasurements(meter => meter.Scope is null);
        using var path = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { MeterFactory = factory });
        var options = TestClientOptions.Small(TimeSpan.FromSeconds(10));
        options.MeterFactory = factory;
        await using var client = await ShmipcClient.ConnectAsync(path.Path, options, cts.Token);
        await using var server = await listener.AcceptAsync(cts.Token);
        var stream = client.OpenStream();
        await stream.WriteAsync(new byte[300], cts.Token);
        var accepted = await server.AcceptStreamAsync(cts.Token);
        using (await accepted.Input.ReadAsync(cts.Token))
        {
        }

        Assert.Equal(300, fromFactory.Sum("shmipc.bytes_sent", client.Name, "client"));
        Assert.Equal(300, fromFactory.Sum("shmipc.bytes_received", server.Name, "server"));
        Assert.Empty(fromStatic.Of("shmipc.bytes_sent", client.Name, "client"));
        fromFactory.Observe();
        fromStatic.Observe();
        Assert.Single(fromFactory.Of("shmipc.slices.free", client.Name, "client"));
        Assert.Empty(fromStatic.Of("shmipc.slices.free", client.Name, "client"));
    }

    [Fact]
    public void Hot_restart_counters_are_tagged_like_the_others()
    {
        using var factory = new TestMeterFactory();
        using var recorded = new RecordedMeasurements(meter => meter.Scope == factory);
        var metrics = new SessionMetrics("/dev/shm/shmipc_metrics_test_queue_0", isClient: true, factory);

        metrics.HotRestarted();
        metrics.HotRestarted();
        metrics.HotRestartFailed();

        Assert.Equal(2, recorded.Sum("shmipc.hot_restarts", "/dev/shm/shmipc_metrics_test_queue_0", "client"));
        Assert.Equal(1, recorded.Sum("shmipc.hot_restart_errors", "/dev/shm/shmipc_metrics_test_queue_0", "client"));
        Assert.Equal(2, metrics.HotRestarts);
        Assert.Equal(1, metrics.HotRestartErrors);
    }

    private static long Single(RecordedMeasurements recorded, string instrument, string session, string role) =>
        Assert.Single(recorded.Of(instrument, session, role)).Value;
}
