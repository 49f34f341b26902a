using System.Diagnostics;
using System.Runtime.Versioning;
using System.Threading.Channels;
using Shmipc.Channels.Tests.Pool;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// The kill-9 matrix's "during a hot restart" moment, with real processes for every role that can die: the old server
/// killed after it sent HotRestart, the new server dead before the clients could move, and a client killed while the old
/// server waits for its acknowledgement. Each case checks that the survivors notice within the matrix's bound, keep or
/// regain service, and leave nothing behind (the fixture's accounting checks fds and mappings after each test).
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(CrossProcessCollection.Name)]
public sealed class HotRestartKillTests : IDisposable
{
    private const int Loops = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(1);

    private readonly CrossProcessFixture _fixture;

    public HotRestartKillTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    public void Dispose() => _fixture.Detach();

    [Fact]
    public async Task OldServerKilledAfterItSentHotRestart_HeldStreamFailsWithinABound_PoolServesFromTheNewServer()
    {
        var path = NewSocketPath("hk-old");
        var prefix = _fixture.NewPrefix("hkold");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var old = _fixture.StartPeer("hot-serve-old", "hot-serve", path);
        await old.WaitForLineAsync("READY ", Timeout);

        var load = new PoolLoad();
        await using (var pool = await ShmipcClientPool.ConnectAsync(path, PoolOptions(prefix), cts.Token))
        {
            var held = await pool.GetStreamAsync(cts.Token);
            await ClientPoolTests.RoundTripAsync(held, "before the restart", cts.Token);
            var pendingRead = EndOf(held.Input.ReadAsync(cts.Token).AsTask());
            var loops = Enumerable.Range(0, Loops).Select(i => load.RunAsync(pool, (uint)i, cts.Token)).ToArray();
            await load.WaitForMoreAsync(50, Timeout);

            await using var next = _fixture.StartPeer("hot-serve-new", "hot-serve", path, "--take-over");
            await next.WaitForLineAsync("READY ", Timeout);

            // The old server sends HotRestart to every session and then dies before it can see the acks.
            old.Send("hot-restart 1");
            await Messages.EventuallyAsync(() => pool.HotRestartEpoch == 1, Timeout, "the pool to receive HotRestart(1)");
            var kill = old.KillNow();
            Assert.Equal(137, await old.WaitForExitAsync(Timeout));

            var (failure, failedAt) = await pendingRead.WaitAsync(Timeout, cts.Token);
            Assert.True(failure is ShmipcException || failure?.InnerException is ShmipcException, $"the held stream ended with {failure?.ToString() ?? "a message"}");
            await kill.AssertWithinAsync(failedAt, DetectionBound, "the held stream failed");
            pool.Return(held);

            // Every slot ends on the new server (moved by the hot restart or rebuilt after the old session died), and
            // requests flow again without failing.
            await Messages.EventuallyAsync(() => pool.LiveSessionCount == pool.SessionCount, Timeout, "every pool slot live again");
            await load.WaitForMoreAsync(50, Timeout);
            var failedSoFar = load.Failures.Count;
            await load.WaitForMoreAsync(200, Timeout);
            Assert.Equal(failedSoFar, load.Failures.Count);
            load.Stop();
            await Task.WhenAll(loops);

            var served = await next.CommandAsync("served", "SERVED ", Timeout);
            Assert.NotEqual("SERVED 0", served);
        }

        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, Timeout, $"no files left under {prefix}");
    }

    [Fact]
    public async Task NewServerKilledBeforeTheClientsMoved_HotRestartFailsAndRestores_OldSessionsKeepServing()
    {
        var path = NewSocketPath("hk-new");
        var prefix = _fixture.NewPrefix("hknew");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var old = _fixture.StartPeer("hot-serve-old", "hot-serve", path);
        await old.WaitForLineAsync("READY ", Timeout);

        var load = new PoolLoad();
        var options = PoolOptions(prefix);
        options.HotRestartTimeout = TimeSpan.FromSeconds(2);
        await using (var pool = await ShmipcClientPool.ConnectAsync(path, options, cts.Token))
        {
            var held = await pool.GetStreamAsync(cts.Token);
            var loops = Enumerable.Range(0, Loops).Select(i => load.RunAsync(pool, (uint)i, cts.Token)).ToArray();
            await load.WaitForMoreAsync(50, Timeout);

            // The new server took the path over and died: the socket file now leads nowhere.
            var next = _fixture.StartPeer("hot-serve-new", "hot-serve", path, "--take-over");
            await next.WaitForLineAsync("READY ", Timeout);
            next.KillNow();
            Assert.Equal(137, await next.WaitForExitAsync(Timeout));

            // The clients cannot move, so no ack comes: the old server's hot restart fails and it returns to normal.
            var outcome = await old.CommandAsync("hot-restart 1", "HOT-", Timeout);
            Assert.StartsWith("HOT-RESTART-FAIL 1", outcome, StringComparison.Ordinal);

            // Nothing the clients had was lost: the held stream and the loops keep working on the old server.
            await ClientPoolTests.RoundTripAsync(held, "after the failed hot restart", cts.Token);
            pool.Return(held);
            await load.WaitForMoreAsync(200, Timeout);
            load.Stop();
            await Task.WhenAll(loops);
            Assert.True(load.Failures.IsEmpty, $"{load.Failures.Count} requests failed, first: {load.Failures.FirstOrDefault()}");
            Assert.Equal(pool.SessionCount, pool.LiveSessionCount);
            Assert.Equal(0, pool.HotRestartCount);
        }

        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, Timeout, $"no files left under {prefix}");
    }

    [Fact]
    public async Task ClientKilledWhileTheOldServerWaitsForItsAck_HotRestartCompletesAtOnce_ListenerAcceptsAgain()
    {
        var path = NewSocketPath("hk-cli");
        var prefix = _fixture.NewPrefix("hkcli");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var listener = ShmipcListener.Bind(path, new ShmipcServerOptions { HotRestartTimeout = TimeSpan.FromSeconds(60) });

        // A plain client session (not a pool) never acknowledges a hot restart, so the old server would wait for the
        // whole timeout; its death must end the wait at once (a session that ended owes no ack).
        var peer = _fixture.StartPeer("connect-hot", "connect", path, "--memfd", "--prefix", prefix);
        var name = (await peer.WaitForLineAsync("READY ", Timeout)).Split(' ')[1];
        await using var session = await listener.AcceptAsync(cts.Token);
        Assert.Equal(name, session.Name);
        var stream = (await _fixture.OpenPeerStreamsAsync(new PeerClient(peer, session, prefix), 1, cts.Token))[0];
        var pendingRead = EndOf(stream.Input.ReadAsync(cts.Token).AsTask());

        var restartTask = listener.HotRestartAsync(9, cts.Token);
        Assert.False(restartTask.IsCompleted, "the hot restart completed before the client could answer");
        var restart = EndOf(restartTask);
        var kill = peer.KillNow();

        var (restartFailure, restartEndedAt) = await restart.WaitAsync(Timeout, cts.Token);
        Assert.True(restartFailure is null, $"the hot restart failed: {restartFailure}");
        var (failure, readEndedAt) = await pendingRead.WaitAsync(Timeout, cts.Token);
        Assert.True(failure is ShmipcException || failure?.InnerException is ShmipcException, $"the pending read ended with {failure?.ToString() ?? "a message"}");
        await kill.AssertWithinAsync(restartEndedAt, DetectionBound, "the hot restart ended");
        await kill.AssertWithinAsync(readEndedAt, DetectionBound, "the pending read failed");
        var closed = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(Timeout, cts.Token));
        Assert.Equal(ShmipcErrorCode.PeerClosed, closed.ErrorCode);
        Assert.Equal(137, await peer.WaitForExitAsync(Timeout));
        await peer.DisposeAsync();

        // The listener is in its normal state and accepts a new client.
        await using var again = _fixture.StartPeer("connect-after", "connect", path, "--memfd", "--prefix", prefix);
        var againName = (await again.WaitForLineAsync("READY ", Timeout)).Split(' ')[1];
        await using var second = await listener.AcceptAsync(cts.Token);
        Assert.Equal(againName, second.Name);
    }

    /// <summary>
    /// How <paramref name="task"/> ended (null: it succeeded) and when: the timestamp is taken as it ends, not when the
    /// test gets round to looking (after other awaits, on a loaded machine much later).
    /// </summary>
    private static async Task<(Exception? Failure, long At)> EndOf(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return (null, Stopwatch.GetTimestamp());
        }
        catch (Exception e)
        {
            return (e, Stopwatch.GetTimestamp());
        }
    }

    private static ShmipcClientPoolOptions PoolOptions(string prefix) => new()
    {
        SessionCount = 2,
        RebuildInterval = TimeSpan.FromSeconds(1),
        HotRestartTimeout = TimeSpan.FromSeconds(10),
        ClientOptions = new ShmipcClientOptions
        {
            MemoryMapType = MemoryMapType.DevShmFile,
            PathPrefix = prefix,
            BufferCapacity = 1024 * 1024,
            HandshakeTimeout = TimeSpan.FromSeconds(5),
        },
    };

    private string NewSocketPath(string purpose) => Path.Combine(_fixture.Directory, $"{purpose}-{Guid.NewGuid():N}"[..(purpose.Length + 9)] + ".sock");
}
