using System.Threading.Channels;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Sessions;
using Shmipc.Channels.Tests.Peer;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// One long-lived client outlives 20 server processes killed with SIGKILL while they hold its slices, write into its
/// region or leave its send queue full (the server stopped with SIGSTOP first). Afterwards its next session has every
/// slice free, an 8 MiB message goes through shared memory (no fallback), and the process holds no more mappings or
/// fds of its shared memory than before.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DeadServerReclaimTests : IDisposable
{
    private const int Kills = 20;
    private const int Region = 20 * 1024 * 1024;
    private const int Slice = 64 * 1024;
    private const int QueueCapacity = 16;
    private const int HeldMessages = 8;
    private const int HeldMessageSize = 4 * Slice;
    private const int LargeMessage = 8 * 1024 * 1024;
    private static readonly TimeSpan Timeout = CrossProcessFixture.Timeout;

    private readonly CrossProcessFixture _fixture;

    public DeadServerReclaimTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    private enum Scenario
    {
        HoldsLeases,
        MidWrite,
        FullQueue,
    }

    public static TheoryData<MemoryMapType> Modes => new() { MemoryMapType.MemFd, MemoryMapType.DevShmFile };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task LongLivedClient_TwentyServersKilled_NextSessionHasEverySliceAndNothingLeaks(MemoryMapType mode)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var prefix = _fixture.NewPrefix("reclaim");
        ShmipcClientOptions Options() => new()
        {
            MemoryMapType = mode,
            PathPrefix = prefix,
            BufferCapacity = Region,
            SizeClasses = [new BufferSizeClass(Slice, 100)],
            QueueCapacity = QueueCapacity,
        };

        // The long-lived client keeps a session open all along (a region shared by the process lived as long as that).
        var echo = await _fixture.GetEchoServerAsync();
        var anchor = await _fixture.ConnectAsync(echo, Options(), cts.Token);
        await Messages.RoundTripAsync(anchor.OpenStream(), 1000, 1, cts.Token);
        await SettleAsync();
        var baseline = ProcessFootprint.Of(prefix);

        // Each server process starts while the previous one is being killed: starting a .NET process is most of the time.
        Task<(PeerProcess Process, string Socket)>? server = StartServerAsync(mode, 0);
        for (var i = 0; i < Kills; i++)
        {
            var current = server!;
            server = i + 1 < Kills ? StartServerAsync(mode, i + 1) : null;
            await KillServerAsync(await current, ScenarioOf(i), Options(), cts.Token);
        }

        var next = await _fixture.ConnectAsync(echo, Options(), cts.Token);
        AssertAllFree(next.Engine.Buffer.Manager, "the next session's region");
        await Messages.RoundTripAsync(next.OpenStream(), LargeMessage, 8, cts.Token);
        Assert.Equal(0, next.FallbackWriteCount);
        Assert.Equal(0, next.FallbackReadCount);
        Assert.Equal(0, next.Engine.Metrics.AllocationFailures);
        AssertAllFree(anchor.Engine.Buffer.Manager, "the long-lived session's region");

        await next.DisposeAsync();
        await SettleAsync();
        var after = await Messages.EventuallyAsync(
            () => Task.FromResult(ProcessFootprint.Of(prefix)), f => f.NotLargerThan(baseline), Timeout, "the shared memory of the closed sessions to be released");
        Assert.True(after.NotLargerThan(baseline), $"before {baseline}, after {after}");
        if (mode == MemoryMapType.DevShmFile)
        {
            // Only the long-lived session's buffer and queue files are left.
            Assert.Equal(2, CrossProcessFixture.ShmFiles(prefix).Length);
        }
    }

    public void Dispose() => _fixture.Detach();

    private static void AssertAllFree(BufferManager manager, string what)
    {
        long free = 0;
        for (var i = 0; i < manager.ListCount; i++)
        {
            var list = manager.GetList(i);
            free += list.FreeCount;
            Assert.True(manager.WalkFreeList(i, out var visited), $"{what}: free list {i} is broken after {visited} slices ({list})");
        }

        Assert.True(free == manager.TotalSliceCount, $"{what}: {free} of {manager.TotalSliceCount} slices are free");
    }

    /// <summary>
    /// Lets a spare region being prepared in the background finish and drops it, so the counts cover sessions only (the
    /// spare is made from the second connect of a configuration on: the baseline has none yet).
    /// </summary>
    private static async Task SettleAsync()
    {
        await Messages.EventuallyAsync(() => !ClientSessionMemorySpares.IsPreparing, Timeout, "the spare region to be prepared");
        ClientSessionMemorySpares.Clear();
    }

    private static Scenario ScenarioOf(int iteration) => (Scenario)(iteration % 3);

    /// <summary>Starts the server of <paramref name="iteration"/> and waits until it listens.</summary>
    private async Task<(PeerProcess Process, string Socket)> StartServerAsync(MemoryMapType mode, int iteration)
    {
        var socket = Path.Combine(_fixture.Directory, $"reclaim-{mode}-{iteration}.sock");
        var serverMode = ScenarioOf(iteration) switch
        {
            Scenario.HoldsLeases => "hold",
            Scenario.MidWrite => "flood",
            _ => "sink",
        };
        var server = _fixture.StartPeer($"reclaim-{ScenarioOf(iteration)}-{iteration}", "serve", socket, "--mode", serverMode);
        await server.WaitForLineAsync("READY ", Timeout);
        return (server, socket);
    }

    private static async Task KillServerAsync((PeerProcess Process, string Socket) started, Scenario scenario, ShmipcClientOptions options, CancellationToken cancellationToken)
    {
        var (process, socket) = started;
        await using var server = process;
        var session = await ShmipcClient.ConnectAsync(socket, options, cancellationToken);
        Task? pending = null;
        try
        {
            var stream = session.OpenStream();
            switch (scenario)
            {
                case Scenario.HoldsLeases:
                    for (var k = 0; k < HeldMessages; k++)
                    {
                        await Messages.WriteAsync(stream, HeldMessageSize, (uint)k, cancellationToken);
                    }

                    await server.WaitForLineAsync($"HELD {session.Name} {stream.Id} {HeldMessages}", Timeout);
                    break;
                case Scenario.MidWrite:
                    await Messages.WriteAsync(stream, 100, 1, cancellationToken);
                    pending = Task.Run(() => DrainAsync(stream, cancellationToken), cancellationToken);
                    await server.WaitForLineAsync($"FLOODING {session.Name} {stream.Id}", Timeout);
                    break;
                default:
                    // The server stops (alive, not reading): the client's queue fills with messages in its region.
                    await Messages.WriteAsync(stream, 100, 1, cancellationToken);
                    Signals.Stop(server.Id);
                    pending = Task.Run(() => FloodAsync(stream, cancellationToken), cancellationToken);
                    await Messages.EventuallyAsync(() => session.Engine.Metrics.QueueFullEvents > 0, Timeout, "the send queue to fill");
                    break;
            }

            server.KillNow();
            var failure = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(Timeout, cancellationToken));
            Assert.Equal(ShmipcErrorCode.PeerClosed, failure.ErrorCode);
            if (pending is not null)
            {
                await pending.WaitAsync(Timeout, cancellationToken);
            }
        }
        finally
        {
            await session.DisposeAsync();
        }
    }

    /// <summary>Reads and drops every message until the session fails.</summary>
    private static async Task DrainAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using var message = await stream.Input.ReadAsync(cancellationToken);
            }
        }
        catch (ChannelClosedException)
        {
        }
    }

    /// <summary>Writes one-slice messages until the session fails.</summary>
    private static async Task FloodAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        var payload = PayloadPattern.Create(Slice, 3);
        try
        {
            while (true)
            {
                await stream.WriteAsync(payload, cancellationToken);
            }
        }
        catch (Exception e) when (e is ChannelClosedException or ShmipcException)
        {
        }
    }
}
