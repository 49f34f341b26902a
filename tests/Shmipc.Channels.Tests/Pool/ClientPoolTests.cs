using System.Runtime.Versioning;
using System.Text;
using System.Buffers;
using Shmipc.Channels.Tests.CrossProcess;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Pool;

/// <summary>The client pool in one process: stream reuse with shmipc-go's wire behaviour, round-robin, idle expiry, rebuild.</summary>
[SupportedOSPlatform("linux")]
public sealed class ClientPoolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    internal static ShmipcClientPoolOptions Options(int sessions = 1) => new()
    {
        ClientOptions = TestClientOptions.Small(TimeSpan.FromSeconds(5)),
        SessionCount = sessions,
    };

    [Fact]
    public async Task Return_ThenGetStream_ReusesTheStreamOpenOnTheWireWithItsUnreadMessagesReleased()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path);
        await using var pool = await ShmipcClientPool.ConnectAsync(socket.Path, Options(), cts.Token);

        var stream = await pool.GetStreamAsync(cts.Token);
        await RoundTripAsync(stream, "first", cts.Token);

        // A reply nobody reads: released when the stream goes back, so the next user does not see it.
        await stream.WriteAsync("unread"u8.ToArray(), cts.Token);
        await Messages.EventuallyAsync(() => stream.Session.ReceiveBufferedMessages == 1, Timeout, "the unread reply to arrive");
        pool.Return(stream);
        Assert.Equal(0, stream.Session.ReceiveBufferedMessages);

        var again = await pool.GetStreamAsync(cts.Token);
        Assert.Same(stream, again);
        await RoundTripAsync(again, "second", cts.Token);

        // Not closed on the wire: the server still has exactly the one stream, open.
        var serverSession = Assert.Single(server.Sessions);
        Assert.Equal(1, serverSession.ActiveStreamCount);
        Assert.False(again.IsClosedByPeer);
        pool.Return(again);
    }

    [Fact]
    public async Task GetStreamAsync_TwoSessions_HandsOutRoundRobinInRunsOf32()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path);
        await using var pool = await ShmipcClientPool.ConnectAsync(socket.Path, Options(sessions: 2), cts.Token);
        Assert.Equal(2, pool.LiveSessionCount);

        var streams = new List<ShmipcStream>();
        for (var i = 0; i < 64; i++)
        {
            streams.Add(await pool.GetStreamAsync(cts.Token));
        }

        var bySession = streams.GroupBy(s => s.Session.Name).Select(g => g.Count()).ToArray();
        Assert.Equal([32, 32], bySession);
        foreach (var s in streams)
        {
            s.Dispose();
        }
    }

    [Fact]
    public async Task Return_IdleLongerThanIdleStreamTimeout_ClosesTheStream()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path);
        var options = Options();
        options.IdleStreamTimeout = TimeSpan.FromMilliseconds(200);
        await using var pool = await ShmipcClientPool.ConnectAsync(socket.Path, options, cts.Token);

        var stream = await pool.GetStreamAsync(cts.Token);
        await RoundTripAsync(stream, "ping", cts.Token);
        pool.Return(stream);
        var serverSession = Assert.Single(server.Sessions);
        await Messages.EventuallyAsync(() => serverSession.ActiveStreamCount == 0, Timeout, "the idle stream to be closed on the server");
        Assert.Equal(0, pool.Engine.Slots[0].IdleCount);
        var fresh = await pool.GetStreamAsync(cts.Token);
        Assert.NotSame(stream, fresh);
        await RoundTripAsync(fresh, "pong", cts.Token);
        pool.Return(fresh);
    }

    [Fact]
    public async Task ServerGone_GetStreamFailsAtOnce_NewServer_PoolRebuildsWithinTheInterval()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        var options = Options();
        options.RebuildInterval = TimeSpan.FromMilliseconds(400);
        var first = new EchoListener(socket.Path);
        await using var pool = await ShmipcClientPool.ConnectAsync(socket.Path, options, cts.Token);
        var stream = await pool.GetStreamAsync(cts.Token);
        await RoundTripAsync(stream, "before", cts.Token);

        await first.DisposeAsync();
        // The server closed in order: the stream ends (a killed server fails it instead, see PoolCrossProcessTests).
        await Assert.ThrowsAsync<System.Threading.Channels.ChannelClosedException>(async () => await stream.Input.ReadAsync(cts.Token));
        await Messages.EventuallyAsync(() => pool.LiveSessionCount == 0, Timeout, "the pool to notice the dead session");
        var none = await Assert.ThrowsAsync<ShmipcException>(async () => await pool.GetStreamAsync(cts.Token));
        Assert.Equal(ShmipcErrorCode.SessionClosed, none.ErrorCode);
        pool.Return(stream);

        await using var second = new EchoListener(socket.Path);
        await Messages.EventuallyAsync(() => pool.LiveSessionCount == 1, Timeout, "the pool to rebuild its session");
        var after = await pool.GetStreamAsync(cts.Token);
        await RoundTripAsync(after, "after", cts.Token);
        Assert.True(pool.RebuildCount >= 1);
        pool.Return(after);
    }

    [Fact]
    public void Validate_NoSessions_IsInvalidConfiguration()
    {
        var options = Options();
        options.SessionCount = 0;
        var e = Assert.Throws<ShmipcException>(options.Validate);
        Assert.Equal(ShmipcErrorCode.InvalidConfiguration, e.ErrorCode);
    }

    internal static async Task RoundTripAsync(ShmipcStream stream, string text, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);
        using var reply = await stream.Input.ReadAsync(cancellationToken);
        Assert.Equal(text, Encoding.ASCII.GetString(reply.Data.ToArray()));
    }
}
