using System.Diagnostics;
using System.Reactive.Linq;
using Shmipc.Channels;
using Shmipc.Channels.Tests.TestSupport;
using Shmipc.Reactive.Tests.InProcess;
using Shmipc.Reactive.Tests.Peer;
using Shmipc.Reactive.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Reactive.Tests.CrossProcess;

/// <summary>
/// <c>WriteTo</c> over an endless synchronous source to a peer process that is killed (SIGKILL) mid-sequence: the task
/// fails with the session's <see cref="ShmipcException"/> promptly, and the source stops.
/// </summary>
public class WriteToPeerKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);

    // The session notices a dead peer within a second; the bound is generous for a loaded machine.
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData("Range")]
    [InlineData("Repeat")]
    public async Task Killing_the_peer_stops_WriteTo_over_a_synchronous_source_promptly(string kind)
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, SessionPair.ServerOptions());
        using var peer = PeerProcess.Start(output, "slow", path.Path);
        var session = await listener.AcceptAsync(cts.Token);
        var items = await session.AcceptStreamAsync(cts.Token);
        Assert.Equal(2u, items.Id);

        // The slow peer observes with a window of 8: once well over the writer's capacity (32) plus that window was
        // pushed, the peer is consuming.
        var pushed = 0L;
        var source = WriteToStopTests.Source(kind).Select(i => new Reading(i, i, "x")).Do(_ => Interlocked.Increment(ref pushed));
        var writing = source.WriteTo(items, ShmipcCodecs.Json(PeerJson.Default.Reading), cts.Token);
        while (Volatile.Read(ref pushed) < 100)
        {
            await Task.Delay(5, cts.Token);
        }

        var killedAt = Stopwatch.GetTimestamp();
        peer.KillNow();
        var failure = await Record.ExceptionAsync(() => writing.WaitAsync(cts.Token));
        var elapsed = Stopwatch.GetElapsedTime(killedAt);
        var stoppedAt = Volatile.Read(ref pushed);
        output.WriteLine($"{kind}: WriteTo ended {elapsed.TotalMilliseconds:0} ms after the kill with {failure}; {stoppedAt} items pushed");
        var error = Assert.IsType<ShmipcException>(failure);
        Assert.True(elapsed < StopBound, $"WriteTo failed {elapsed.TotalMilliseconds:0} ms after the kill");

        // A write that met the dead connection throws PeerClosed; a Rent after the session failed, SessionClosed with it.
        Assert.Equal(ShmipcErrorCode.PeerClosed, FailureCause.Of(error).ErrorCode);

        await Task.Delay(200, cts.Token);
        Assert.True(Volatile.Read(ref pushed) - stoppedAt <= 1, $"the source kept running after WriteTo ended ({stoppedAt} → {Volatile.Read(ref pushed)})");
    }
}
