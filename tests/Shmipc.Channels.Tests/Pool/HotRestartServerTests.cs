using System.Runtime.Versioning;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Pool;

/// <summary>The old server's hot-restart state machine against raw clients: acks counted, foreign epochs ignored, timeout restores.</summary>
[SupportedOSPlatform("linux")]
public sealed class HotRestartServerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task HotRestartAsync_SendsTheFrameToEverySession_CompletesWhenEveryOneAcknowledged()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path, new ShmipcServerOptions { HotRestartTimeout = TimeSpan.FromSeconds(15) });
        using var a = RawClient.Connect(socket.Path);
        using var b = RawClient.Connect(socket.Path);
        await server.WaitForSessionsAsync(2, Timeout);

        var restart = server.Listener.HotRestartAsync(1024, cts.Token);
        var frameA = a.ReadFrame(EventType.HotRestart);
        var frameB = b.ReadFrame(EventType.HotRestart);

        // Byte for byte shmipc-go's frame (tests/vectors/frames v3_HotRestart_s2c: header + epoch 1024, BE).
        Assert.Equal(Convert.FromHexString("00000010775803080000000000000400"), frameA);
        Assert.Equal(frameA, frameB);

        a.SendAck(1024);
        b.SendAck(1023);                     // a foreign epoch counts for nothing
        Assert.False(restart.IsCompleted);
        b.SendAck(1024);
        await restart.WaitAsync(cts.Token);

        // shmipc-go's hotRestartSuccessCount: one per session that moved.
        Assert.All(server.Sessions, s => Assert.Equal(1, s.Engine.Metrics.HotRestarts));
        Assert.All(server.Sessions, s => Assert.Equal(0, s.Engine.Metrics.HotRestartErrors));
    }

    [Fact]
    public async Task HotRestartAsync_AnAckMissing_TimesOutAndRestoresTheNormalState()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path, new ShmipcServerOptions { HotRestartTimeout = TimeSpan.FromMilliseconds(500) });
        using var a = RawClient.Connect(socket.Path);
        using var b = RawClient.Connect(socket.Path);
        await server.WaitForSessionsAsync(2, Timeout);

        var restart = server.Listener.HotRestartAsync(7, cts.Token);
        a.ReadFrame(EventType.HotRestart);
        b.ReadFrame(EventType.HotRestart);
        a.SendAck(7);
        var e = await Assert.ThrowsAsync<ShmipcException>(() => restart);
        Assert.Equal(ShmipcErrorCode.Timeout, e.ErrorCode);
        Assert.Contains("1 of 2 sessions", e.Message, StringComparison.Ordinal);
        Assert.Equal([0L, 1L], server.Sessions.Select(s => s.Engine.Metrics.HotRestartErrors).Order());
        Assert.Equal(1, server.Sessions.Sum(s => s.Engine.Metrics.HotRestarts));

        // Normal again: a late ack of the old epoch is ignored, and a new hot restart runs.
        b.SendAck(7);
        var again = server.Listener.HotRestartAsync(8, cts.Token);
        Assert.Equal(8UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(a.ReadFrame(EventType.HotRestart).AsSpan(8)));
        b.ReadFrame(EventType.HotRestart);
        a.SendAck(8);
        b.SendAck(8);
        await again.WaitAsync(cts.Token);
    }

    [Fact]
    public async Task HotRestartAsync_WhileOneRuns_IsRefused_AndASessionThatEndsOwesNoAck()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = new EchoListener(socket.Path, new ShmipcServerOptions { HotRestartTimeout = TimeSpan.FromSeconds(15) });
        using var a = RawClient.Connect(socket.Path);
        var b = RawClient.Connect(socket.Path);
        await server.WaitForSessionsAsync(2, Timeout);

        var restart = server.Listener.HotRestartAsync(3, cts.Token);
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.Listener.HotRestartAsync(4, cts.Token));
        a.ReadFrame(EventType.HotRestart);
        a.SendAck(3);
        b.Dispose();
        await restart.WaitAsync(cts.Token);
    }
}
