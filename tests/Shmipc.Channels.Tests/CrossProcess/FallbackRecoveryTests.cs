using System.Diagnostics;
using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Between two Shmipc.NET processes a stream that fell back to the socket during a burst returns to shared memory as
/// soon as slices are free again, in both directions, without reordering (shmipc-go keeps such a stream on the socket).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class FallbackRecoveryTests : IDisposable
{
    private const int Burst = 150;
    private const int BurstSize = 12 * 1024;
    private const int PingSize = 64;
    private const int Pings = 2000;

    private readonly CrossProcessFixture _fixture;
    private readonly ITestOutputHelper _output;

    public FallbackRecoveryTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Attach(output);
    }

    [Fact]
    public async Task PingPong_AfterABurstThatFellBack_ReturnsToSharedMemoryInBothDirections()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout * 2);
        var prefix = _fixture.NewPrefix("burst");
        var options = new ShmipcClientOptions
        {
            BufferCapacity = 1024 * 1024,
            SizeClasses = [new BufferSizeClass(16 * 1024, 100)],
            PathPrefix = prefix,
        };
        var session = await _fixture.ConnectAsync(await _fixture.GetEchoServerAsync(), options, cts.Token);
        var stream = session.OpenStream();
        var before = await PingPongAsync(stream, cts.Token);

        // 150 × 12 KiB written before any echo is read: the unread echoes pin the 62 usable slices, both sides fall back.
        for (var i = 0; i < Burst; i++)
        {
            await Messages.WriteAsync(stream, BurstSize, (uint)i, cts.Token);
        }

        for (var i = 0; i < Burst; i++)
        {
            await Messages.ReadAndVerifyAsync(stream, BurstSize, (uint)i, $"echo #{i}", cts.Token);
        }

        Assert.True(session.FallbackWriteCount > 0, "the burst must have fallen back (writes)");
        Assert.True(session.FallbackReadCount > 0, "the burst must have fallen back (echoes)");

        // The peer's "I order fallback frames" answers the first fallback frame; wait until it is here.
        await Messages.EventuallyAsync(() => session.Engine.PeerOrdersFallback, CrossProcessFixture.Timeout, "the echo server's announcement");
        await Messages.RoundTripAsync(stream, PingSize, 7, cts.Token);
        var writes = session.FallbackWriteCount;
        var reads = session.FallbackReadCount;
        var after = await PingPongAsync(stream, cts.Token);

        Assert.Equal(writes, session.FallbackWriteCount);
        Assert.Equal(reads, session.FallbackReadCount);
        Assert.False(stream.IsInFallback);
        Assert.True(session.Statistics.FallbackEntries >= 1, session.Statistics.ToString());
        _output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"ping-pong {PingSize} B: {before:0.0} µs per round trip before the burst, {after:0.0} µs after ({(after / before) - 1:+0.0%;-0.0%}); fallback writes {writes}, reads {reads}"));

        stream.Output.Complete();
        var end = await _fixture.EchoServerPeer.WaitForLineAsync($"STREAM-END {session.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        Assert.Contains($" count={Burst + Pings + Pings + 1} ", end, StringComparison.Ordinal);
        await stream.DisposeAsync();
        await session.DisposeAsync();
        Assert.Empty(CrossProcessFixture.ShmFiles(prefix));
    }

    public void Dispose() => _fixture.Detach();

    /// <summary>Round trips of one small message; returns the mean in microseconds.</summary>
    private static async Task<double> PingPongAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        var payload = new byte[PingSize];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Pings; i++)
        {
            await stream.WriteAsync(payload, cancellationToken);
            (await stream.Input.ReadAsync(cancellationToken)).Dispose();
        }

        return Stopwatch.GetElapsedTime(started).TotalMicroseconds / Pings;
    }
}
