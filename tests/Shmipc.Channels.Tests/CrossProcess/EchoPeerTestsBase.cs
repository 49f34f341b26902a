using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Contract tests against an echoing peer in another process; the sealed leaves pick the roles
/// (<see cref="PeerServerEchoTests"/>: the test process is the client; <see cref="PeerClientEchoTests"/>: it is the server).
/// </summary>
public abstract class EchoPeerTestsBase : IDisposable
{
    private const int ConcurrentStreams = 16;
    private const int ConcurrentRounds = 40;

    protected EchoPeerTestsBase(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        Fixture = fixture;
        fixture.Attach(output);
    }

    public static TheoryData<MemoryMapType, int> SizeCases
    {
        get
        {
            var data = new TheoryData<MemoryMapType, int>();
            foreach (var mode in new[] { MemoryMapType.MemFd, MemoryMapType.DevShmFile })
            {
                foreach (var size in new[] { 64, 4 * 1024, 64 * 1024, 1024 * 1024, 4 * 1024 * 1024 })
                {
                    data.Add(mode, size);
                }
            }

            return data;
        }
    }

    public static TheoryData<MemoryMapType> Modes => new() { MemoryMapType.MemFd, MemoryMapType.DevShmFile };

    protected CrossProcessFixture Fixture { get; }

    [Theory]
    [MemberData(nameof(SizeCases), MemberType = typeof(EchoPeerTestsBase))]
    public async Task RoundTrip_MessageSize_EveryByteVerified(MemoryMapType mode, int size)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var (session, peer) = await GetEndpointAsync(mode);
        var stream = (await OpenStreamsAsync(mode, 1, cts.Token))[0];
        var rounds = size >= 1024 * 1024 ? 3 : 10;
        for (var round = 0; round < rounds; round++)
        {
            await Messages.RoundTripAsync(stream, size, (uint)(size + round), cts.Token);
        }

        await CloseAndExpectPeerEndAsync(session, peer, stream, rounds);
    }

    [Theory]
    [MemberData(nameof(Modes), MemberType = typeof(EchoPeerTestsBase))]
    public async Task ConcurrentStreams_SixteenWithDistinctPayloads_AllVerifiedAndStreamCountsBackToZero(MemoryMapType mode)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var (session, peer) = await GetEndpointAsync(mode);
        await Messages.EventuallyAsync(() => session.ActiveStreamCount == 0, TimeSpan.FromSeconds(5), "streams of earlier tests to be forgotten");

        var streams = await OpenStreamsAsync(mode, ConcurrentStreams, cts.Token);
        Assert.Equal(ConcurrentStreams, session.ActiveStreamCount);
        await Task.WhenAll(streams.Select((stream, index) => Task.Run(async () =>
        {
            for (var round = 0; round < ConcurrentRounds; round++)
            {
                // Distinct sizes and seeds per stream and round: a message delivered on the wrong stream cannot verify.
                var size = 1 + (((index * 7919) + (round * 104729)) % 20000);
                await Messages.RoundTripAsync(stream, size, (uint)((index << 16) | round), cts.Token);
            }
        })));

        await Task.WhenAll(streams.Select(s => CloseAndExpectPeerEndAsync(session, peer, s, ConcurrentRounds)));
        await Messages.EventuallyAsync(() => session.ActiveStreamCount == 0, TimeSpan.FromSeconds(5), "the local stream count to return to 0");
        await Messages.EventuallyAsync(
            () => CrossProcessFixture.PeerStatsAsync(peer, session.Name),
            line => line.Contains(" active=0 ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5),
            "the peer's stream count to return to 0");
    }

    public void Dispose()
    {
        Fixture.Detach();
        GC.SuppressFinalize(this);
    }

    /// <summary>The test process's session for <paramref name="mode"/> and the peer on the other end.</summary>
    protected abstract Task<(ShmipcSession Session, PeerProcess Peer)> GetEndpointAsync(MemoryMapType mode);

    /// <summary>New streams on that session whose next message from the peer is an echo.</summary>
    protected abstract Task<ShmipcStream[]> OpenStreamsAsync(MemoryMapType mode, int count, CancellationToken cancellationToken);

    /// <summary>
    /// Closes <paramref name="stream"/> from the test's side; the echo loop in the peer then sees its input end after
    /// <paramref name="received"/> messages and finds that it can no longer write (StreamClosed). shmipc sends nothing
    /// back for a stream the peer already closed (docs/PROTOCOL.md §5), so the test then disposes its end.
    /// </summary>
    private static async Task CloseAndExpectPeerEndAsync(ShmipcSession session, PeerProcess peer, ShmipcStream stream, int received)
    {
        stream.Output.Complete();
        var end = await peer.WaitForLineAsync($"STREAM-END {session.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        Assert.Contains($" count={received} ", end, StringComparison.Ordinal);
        Assert.False(stream.Input.TryRead(out _), $"stream {stream.Id}: a message arrived after the last echo");
        await stream.DisposeAsync();
        Assert.EndsWith(" probe=StreamClosed", end, StringComparison.Ordinal);
    }
}
