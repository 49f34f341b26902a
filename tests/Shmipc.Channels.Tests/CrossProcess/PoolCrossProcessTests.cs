using System.Globalization;
using System.Runtime.Versioning;
using Shmipc.Channels.Tests.Pool;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// The client pool against real server processes: five hot restarts into new processes under load with no failed or lost
/// request, and a server killed with SIGKILL then started again.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(CrossProcessCollection.Name)]
public sealed class PoolCrossProcessTests : IDisposable
{
    private const int Restarts = 5;
    private const int Loops = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly CrossProcessFixture _fixture;

    public PoolCrossProcessTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    public void Dispose() => _fixture.Detach();

    [Fact]
    public async Task HotRestart_FiveTimesIntoNewProcessesUnderLoad_NoRequestFailsOrIsLost_NothingLeftInDevShm()
    {
        var path = Path.Combine(_fixture.Directory, $"hot-{Guid.NewGuid():N}"[..12] + ".sock");
        var prefix = _fixture.NewPrefix("hot");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var server = _fixture.StartPeer("hot-serve-0", "hot-serve", path);
        await server.WaitForLineAsync("READY ", Timeout);

        var options = new ShmipcClientPoolOptions
        {
            SessionCount = 2,
            HotRestartTimeout = TimeSpan.FromSeconds(10),
            ClientOptions = new ShmipcClientOptions
            {
                MemoryMapType = MemoryMapType.DevShmFile,
                PathPrefix = prefix,
                BufferCapacity = 1024 * 1024,
                HandshakeTimeout = TimeSpan.FromSeconds(5),
            },
        };
        long servedByOldServers = 0;
        var load = new PoolLoad();
        await using (var pool = await ShmipcClientPool.ConnectAsync(path, options, cts.Token))
        {
            var loops = Enumerable.Range(0, Loops).Select(i => load.RunAsync(pool, (uint)i, cts.Token)).ToArray();
            for (var epoch = 1; epoch <= Restarts; epoch++)
            {
                await load.WaitForMoreAsync(50, Timeout);
                var next = _fixture.StartPeer($"hot-serve-{epoch}", "hot-serve", path, "--take-over");
                await next.WaitForLineAsync("READY ", Timeout);
                var e = epoch.ToString(CultureInfo.InvariantCulture);
                var restarted = await server.CommandAsync($"hot-restart {e}", "HOT-", Timeout);
                Assert.StartsWith($"HOT-RESTARTED {e}", restarted, StringComparison.Ordinal);
                var drained = await server.WaitForLineAsync("DRAINED ", Timeout);
                servedByOldServers += long.Parse(drained.Split(' ')[1]["served=".Length..], CultureInfo.InvariantCulture);
                Assert.Equal(0, await server.WaitForExitAsync(Timeout));
                await Messages.EventuallyAsync(() => pool.HotRestartCount == epoch, Timeout, $"the pool to complete hot restart {epoch}");
                server = next;
            }

            await load.WaitForMoreAsync(50, Timeout);
            load.Stop();
            await Task.WhenAll(loops);
            Assert.Equal((ulong)Restarts, pool.HotRestartEpoch);
        }

        var servedByLast = long.Parse((await server.CommandAsync("served", "SERVED ", Timeout)).Split(' ')[1], CultureInfo.InvariantCulture);
        Assert.True(load.Failures.IsEmpty, $"{load.Failures.Count} requests failed, first: {load.Failures.FirstOrDefault()}");
        Assert.Equal(load.Completed, servedByOldServers + servedByLast);
        Assert.True(servedByOldServers > 0 && servedByLast > 0, $"old servers {servedByOldServers}, last {servedByLast}");
        await server.DisposeAsync();
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, Timeout, $"no files left under {prefix}");
    }

    [Fact]
    public async Task ServerKilled_RequestsFailFastUntilANewServerStarts_ThenResumeWithinTheRebuildInterval_NothingLeaks()
    {
        var path = Path.Combine(_fixture.Directory, $"kill-{Guid.NewGuid():N}"[..13] + ".sock");
        var prefix = _fixture.NewPrefix("kill");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var first = _fixture.StartPeer("serve-killed", "serve", path);
        await first.WaitForLineAsync("READY ", Timeout);
        var options = new ShmipcClientPoolOptions
        {
            RebuildInterval = TimeSpan.FromSeconds(1),
            ClientOptions = new ShmipcClientOptions
            {
                MemoryMapType = MemoryMapType.DevShmFile,
                PathPrefix = prefix,
                BufferCapacity = 1024 * 1024,
                HandshakeTimeout = TimeSpan.FromSeconds(5),
            },
        };

        await using (var pool = await ShmipcClientPool.ConnectAsync(path, options, cts.Token))
        {
            var held = await pool.GetStreamAsync(cts.Token);
            await ClientPoolTests.RoundTripAsync(held, "before the kill", cts.Token);

            first.KillNow();
            await first.WaitForExitAsync(Timeout);
            var failure = await Assert.ThrowsAsync<System.Threading.Channels.ChannelClosedException>(async () => await held.Input.ReadAsync(cts.Token));
            Assert.IsType<ShmipcException>(failure.InnerException);
            pool.Return(held);
            await Messages.EventuallyAsync(() => pool.LiveSessionCount == 0, Timeout, "the pool to notice the dead server");

            // No server: fails at once (no waiting for a timeout), saying why.
            var none = Assert.Throws<ShmipcException>(() => pool.GetStreamAsync(cts.Token).AsTask().GetAwaiter().GetResult());
            Assert.Equal(ShmipcErrorCode.SessionClosed, none.ErrorCode);
            await Messages.EventuallyAsync(() => ShmFiles(prefix) == 0 && MappedFiles(prefix) == 0 && OpenFiles(prefix) == 0, Timeout, "the dead session's files, mappings and fds to be gone");

            await using var second = _fixture.StartPeer("serve-new", "serve", path);
            await second.WaitForLineAsync("READY ", Timeout);
            var started = DateTime.UtcNow;
            await Messages.EventuallyAsync(() => pool.LiveSessionCount == 1, Timeout, "the pool to rebuild its session");
            var waited = DateTime.UtcNow - started;
            Assert.True(waited < options.RebuildInterval + TimeSpan.FromSeconds(10), $"rebuilt after {waited.TotalSeconds:0.0} s");
            var after = await pool.GetStreamAsync(cts.Token);
            await ClientPoolTests.RoundTripAsync(after, "after the restart", cts.Token);
            pool.Return(after);
            Assert.Equal(1, pool.RebuildCount);
            Assert.Equal(2, MappedFiles(prefix));
        }

        await Messages.EventuallyAsync(() => ShmFiles(prefix) == 0 && MappedFiles(prefix) == 0 && OpenFiles(prefix) == 0, Timeout, "no file, mapping or fd left");
    }

    private static int ShmFiles(string prefix) => CrossProcessFixture.ShmFiles(prefix).Length;

    /// <summary>Distinct files under <paramref name="prefix"/> this process maps (a deleted file keeps its name with " (deleted)").</summary>
    private static int MappedFiles(string prefix) =>
        File.ReadLines("/proc/self/maps").Where(l => l.Contains(prefix, StringComparison.Ordinal))
            .Select(l => l[l.IndexOf('/', StringComparison.Ordinal)..]).Distinct().Count();

    /// <summary>Open fds of this process on files under <paramref name="prefix"/>.</summary>
    private static int OpenFiles(string prefix) => ProcessFootprint.OpenFds().Count(fd => fd.Target.StartsWith(prefix, StringComparison.Ordinal));
}
