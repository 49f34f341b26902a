using System.Collections.Concurrent;
using System.Runtime.Versioning;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Tests.CrossProcess;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Pool;

/// <summary>
/// The client pool's hot-restart state machine, driven by real HotRestart frames from an in-process server: every slot
/// moves, acks go out on the old sessions, old streams keep working; foreign and repeated epochs are ignored; the wire
/// bytes are shmipc-go's.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HotRestartClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task HotRestart_OnEverySession_MovesEverySlot_AcknowledgesOnTheOldSessions_OldStreamsKeepWorking()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path);
        var options = ClientPoolTests.Options(sessions: 2);
        options.HotRestartTimeout = TimeSpan.FromSeconds(15);
        await using var pool = await ShmipcClientPool.ConnectAsync(socket.Path, options, cts.Token);
        await server.WaitForSessionsAsync(2, Timeout);
        var old = server.Sessions;
        var acks = CaptureAcks(old);
        var held = await pool.GetStreamAsync(cts.Token);
        await ClientPoolTests.RoundTripAsync(held, "before", cts.Token);

        foreach (var session in old)
        {
            session.Engine.SendHotRestartFrame(EventType.HotRestart, 5);
        }

        await Messages.EventuallyAsync(() => acks.Count == 2, Timeout, "an ack on each old session");
        Assert.All(acks, a => Assert.Equal(5UL, a.Epoch));
        Assert.Equal(old.Select(s => s.Name).Order(), acks.Select(a => a.Session).Order());

        // The client acknowledges once its new sessions are connected; the listener's accept loop may record them a
        // moment later (seen under a loaded full run), so wait for them, then check there are no more than two.
        await server.WaitForSessionsAsync(4, Timeout);
        Assert.Equal(4, server.Sessions.Count);
        Assert.All(server.Sessions.Skip(2), s => Assert.Contains("_epoch_5_", s.Name, StringComparison.Ordinal));
        Assert.Equal(1, pool.HotRestartCount);
        Assert.Equal(5UL, pool.HotRestartEpoch);

        // The stream handed out before still works on the old server; given back, it is not reused.
        await ClientPoolTests.RoundTripAsync(held, "after", cts.Token);
        pool.Return(held);
        var fresh = await pool.GetStreamAsync(cts.Token);
        Assert.NotSame(held, fresh);
        Assert.Contains("_epoch_5_", fresh.Session.Name, StringComparison.Ordinal);
        await ClientPoolTests.RoundTripAsync(fresh, "new server", cts.Token);
        pool.Return(fresh);
        Assert.All(old, s => Assert.False(s.IsClosed));
    }

    [Fact]
    public async Task HotRestart_RepeatedAndForeignEpochs_AreIgnored_TimeoutClosesTheMovedOldSession()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path);
        var options = ClientPoolTests.Options(sessions: 2);
        options.HotRestartTimeout = TimeSpan.FromMilliseconds(1500);
        await using var pool = await ShmipcClientPool.ConnectAsync(socket.Path, options, cts.Token);
        await server.WaitForSessionsAsync(2, Timeout);
        var old = server.Sessions;
        var acks = CaptureAcks(old);

        old[0].Engine.SendHotRestartFrame(EventType.HotRestart, 5);
        old[0].Engine.SendHotRestartFrame(EventType.HotRestart, 5);   // repeated: one new session only
        old[1].Engine.SendHotRestartFrame(EventType.HotRestart, 6);   // foreign while 5 runs: ignored

        // Not every slot moved within the timeout: the pool gives up and closes the old session that had moved.
        await Messages.EventuallyAsync(() => old[0].IsClosed, Timeout, "the moved slot's old session to be closed on timeout");
        Assert.Equal(3, server.Sessions.Count);
        Assert.False(old[1].IsClosed);
        Assert.Empty(acks);
        Assert.Equal(0, pool.HotRestartCount);
        Assert.Equal(2, pool.LiveSessionCount);
    }

    [Fact]
    public async Task HotRestart_OnTheWire_IsShmipcGosFrameBothWays()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path);
        var proxyPath = Path.Combine(socket.Directory, "proxy.sock");
        await using var proxy = new RecordingProxy(proxyPath, socket.Path);
        var options = ClientPoolTests.Options();
        options.ClientOptions.MemoryMapType = MemoryMapType.DevShmFile;     // v2 file mode: a byte proxy can carry it
        options.HotRestartTimeout = TimeSpan.FromSeconds(15);
        await using var pool = await ShmipcClientPool.ConnectAsync(proxyPath, options, cts.Token);
        await server.WaitForSessionsAsync(1, Timeout);

        await server.Listener.HotRestartAsync(1024, cts.Token).WaitAsync(cts.Token);

        // tests/vectors/frames: v2_HotRestart_s2c and v2_HotRestartAck_c2s (epoch 1024).
        Assert.Contains("00000010775802080000000000000400", Convert.ToHexString(proxy.ServerToClient(0)), StringComparison.OrdinalIgnoreCase);
        await Messages.EventuallyAsync(
            () => Convert.ToHexString(proxy.ClientToServer(0)).Contains("00000010775802090000000000000400", StringComparison.OrdinalIgnoreCase),
            Timeout,
            "the ack bytes on the old connection");
        Assert.Equal(1, pool.HotRestartCount);
    }

    private static ConcurrentQueue<(string Session, ulong Epoch)> CaptureAcks(IEnumerable<ShmipcSession> sessions)
    {
        var acks = new ConcurrentQueue<(string, ulong)>();
        foreach (var session in sessions)
        {
            session.Engine.SetHotRestartHandler((s, epoch) => acks.Enqueue((s.Name, epoch)));
        }

        return acks;
    }
}
