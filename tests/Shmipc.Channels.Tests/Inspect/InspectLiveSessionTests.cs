using System.Text.Json;
using Shmipc.Channels.Inspection;
using Shmipc.Channels.Tests.CrossProcess;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.Inspect;

/// <summary>shmipc-inspect against the regions of live sessions: this process's (by pid) and a peer process's.</summary>
[Collection(InspectCollection.Name)]
public sealed class InspectLiveSessionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Session_in_this_process_shows_queued_and_held_slices_by_pid()
    {
        using var path = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);

        // The server's budget of one unread message stops it draining the queue, so the later messages stay queued.
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { ReceiveBudgetMessages = 1 });
        var options = TestClientOptions.Small(TimeSpan.FromSeconds(10));
        string marker = Path.GetFileName(options.PathPrefix);
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using (var client = await ShmipcClient.ConnectAsync(path.Path, options, cts.Token))
        {
            await using var server = await listener.AcceptAsync(cts.Token);
            var stream = client.OpenStream();
            for (int i = 0; i < 3; i++)
            {
                await stream.WriteAsync(new byte[100 + i], cts.Token);
            }

            await Messages.EventuallyAsync(() => PendingClientToServer(marker) >= 1, Timeout, "a message pending in the client-to-server queue");

            var run = InspectRun.InProcess(pid, "--json");
            output.WriteLine(run.ToString());
            Assert.Contains("\"consistent\"", run.Output, StringComparison.Ordinal);
            var buffer = run.Regions(marker).Single(r => r.GetProperty("kind").GetString() == "buffer");
            var queue = run.Regions(marker).Single(r => r.GetProperty("kind").GetString() == "queue");
            Assert.True(buffer.GetProperty("consistent").GetBoolean(), buffer.ToString());
            Assert.True(queue.GetProperty("consistent").GetBoolean(), queue.ToString());
            Assert.StartsWith("/memfd:shmipc", buffer.GetProperty("name").GetString(), StringComparison.Ordinal);
            Assert.StartsWith($"/proc/{pid}/fd/", buffer.GetProperty("source").GetString(), StringComparison.Ordinal);

            // 3 messages: one delivered to the stream (its lease not taken yet), the rest queued; all off the free lists.
            Assert.True(buffer.GetProperty("slicesNotFree").GetInt64() >= 3, buffer.ToString());
            var c2s = queue.GetProperty("queues")[0];
            long pending = c2s.GetProperty("pendingCount").GetInt64();
            Assert.InRange(pending, 1, 2);
            var queuedSlices = buffer.GetProperty("lists").EnumerateArray()
                .SelectMany(l => l.GetProperty("slicesNotFree").EnumerateArray())
                .Count(s => s.GetProperty("queuedIn").ValueKind == JsonValueKind.String);
            Assert.Equal(pending, queuedSlices);
            Assert.Equal(run.JsonDocuments().Single().GetProperty("consistent").GetBoolean() ? 0 : 1, run.ExitCode);

            output.WriteLine(InspectRun.InProcess(pid).Output);
        }

        // Gone once the session is: nothing of it is left to find.
        Assert.DoesNotContain(RegionLocator.FindByProcess(Environment.ProcessId), t => t.Name.Contains(marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Peer_process_holding_leases_is_inspected_by_its_pid_from_another_process()
    {
        using var path = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var peer = PeerProcess.Start("inspect-hold", output, "serve", path.Path, "--mode", "hold");
        await peer.WaitForLineAsync("READY ", Timeout);
        var options = TestClientOptions.Small(TimeSpan.FromSeconds(10));
        string marker = Path.GetFileName(options.PathPrefix);
        await using var client = await ShmipcClient.ConnectAsync(path.Path, options, cts.Token);
        var stream = client.OpenStream();
        for (int i = 0; i < 3; i++)
        {
            await stream.WriteAsync(new byte[2000], cts.Token);
        }

        await peer.WaitForLineAsync(l => l.StartsWith("HELD ", StringComparison.Ordinal) && l.EndsWith(" 3", StringComparison.Ordinal), Timeout);

        var run = await InspectRun.AsProcessAsync(TimeSpan.FromSeconds(60), peer.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        output.WriteLine(run.ToString());

        Assert.Equal(0, run.ExitCode);
        var regions = run.Regions(marker);
        var buffer = regions.Single(r => r.GetProperty("kind").GetString() == "buffer");
        var queue = regions.Single(r => r.GetProperty("kind").GetString() == "queue");
        Assert.StartsWith($"/proc/{peer.Id}/fd/", buffer.GetProperty("source").GetString(), StringComparison.Ordinal);
        // Each 2000-byte message is a chain of slices that stays off the free lists while the peer holds its lease.
        var held = buffer.GetProperty("lists").EnumerateArray().SelectMany(l => l.GetProperty("slicesNotFree").EnumerateArray()).ToList();
        Assert.Equal(held.Count, buffer.GetProperty("slicesNotFree").GetInt64());
        Assert.Equal(6000, held.Sum(s => s.GetProperty("size").GetInt64()));
        var offsets = held.Select(s => s.GetProperty("offset").GetUInt32()).ToHashSet();
        var links = held.Where(s => s.GetProperty("next").ValueKind == JsonValueKind.Number).Select(s => s.GetProperty("next").GetUInt32()).ToList();
        Assert.Equal(held.Count - 3, links.Count); // three chains: every slice but the last of each links on
        Assert.All(links, next => Assert.Contains(next, offsets));
        Assert.All(held, s => Assert.Equal(JsonValueKind.Null, s.GetProperty("queuedIn").ValueKind));
        Assert.All(queue.GetProperty("queues").EnumerateArray(), q => Assert.Equal(0, q.GetProperty("pendingCount").GetInt64()));
        Assert.Equal(3, queue.GetProperty("queues")[0].GetProperty("tail").GetInt64());

        output.WriteLine(InspectRun.InProcess(peer.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Output);
    }

    [Fact]
    public async Task Busy_session_is_not_reported_inconsistent()
    {
        using var path = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var peer = PeerProcess.Start("inspect-sink", output, "serve", path.Path, "--mode", "sink");
        await peer.WaitForLineAsync("READY ", Timeout);
        var options = TestClientOptions.Small(TimeSpan.FromSeconds(10));
        string marker = Path.GetFileName(options.PathPrefix);
        await using var client = await ShmipcClient.ConnectAsync(path.Path, options, cts.Token);
        var stream = client.OpenStream();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        long written = 0;
        var writer = Task.Run(async () =>
        {
            var payload = new byte[3000];
            while (!stop.IsCancellationRequested)
            {
                await stream.WriteAsync(payload, cts.Token);
                Interlocked.Increment(ref written);
            }
        });

        await Messages.EventuallyAsync(() => Interlocked.Read(ref written) > 1000, Timeout, "1000 messages written");
        string pid = peer.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        long before = Interlocked.Read(ref written);
        for (int pass = 0; pass < 5; pass++)
        {
            // Pops, pushes and queue traffic go on while the inspector reads: none of it may look like damage.
            var run = InspectRun.InProcess(pid, "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal(2, run.Regions(marker).Count);
        }

        // The traffic really ran during the passes (the writer is never stopped by the read-only inspector).
        await Messages.EventuallyAsync(() => Interlocked.Read(ref written) > before + 1000, Timeout, "1000 more messages written");
        stop.Cancel();
        await writer;
    }

    private static long PendingClientToServer(string marker)
    {
        var report = RegionInspector.Inspect(RegionLocator.FindByProcess(Environment.ProcessId));
        return report.Regions.OfType<QueuePairReport>()
            .Where(q => q.Name.Contains(marker, StringComparison.Ordinal))
            .Sum(q => q.Queues.Count > 0 ? q.Queues[0].PendingCount : 0);
    }
}
