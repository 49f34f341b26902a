using System.Diagnostics;
using System.Threading.Channels;
using Shmipc.Channels.Tests.Peer;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// A peer client killed with SIGKILL while it streams messages: the test process (the server) must notice within a
/// second, fail the streams and the session with <see cref="ShmipcErrorCode.PeerClosed"/>, and leave nothing behind.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class PeerCrashTests : IDisposable
{
    private const int MessageSize = 64 * 1024;
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(1);

    private readonly CrossProcessFixture _fixture;

    public PeerCrashTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    public static TheoryData<MemoryMapType> Modes => new() { MemoryMapType.MemFd, MemoryMapType.DevShmFile };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SigKill_PeerMidMessage_StreamsAndSessionFailWithPeerClosedWithinOneSecond(MemoryMapType mode)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("crash");
        await using var peer = _fixture.StartPeer(
            $"crash-{mode}", "crash-midway", _fixture.ListenerPath, mode == MemoryMapType.MemFd ? "--memfd" : "--file", "--prefix", prefix, "--streams", "2");
        var ready = await peer.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        Assert.EndsWith($" {prefix}", ready, StringComparison.Ordinal);
        var session = await _fixture.AcceptSessionAsync(ready.Split(' ')[1]);

        var streams = new[] { await session.AcceptStreamAsync(cts.Token), await session.AcceptStreamAsync(cts.Token) };
        var readers = streams.Select(s => Task.Run(() => ReadUntilFailureAsync(s, cts.Token))).ToArray();
        await peer.WaitForLineAsync($"INFLIGHT {session.Name} ", CrossProcessFixture.Timeout);
        if (mode == MemoryMapType.DevShmFile)
        {
            // Otherwise the leftover check below could not fail.
            Assert.Equal(2, CrossProcessFixture.ShmFiles(prefix).Length);
        }

        var killedAt = Stopwatch.GetTimestamp();
        peer.KillNow();
        foreach (var reader in readers)
        {
            var (verified, failure, failedAt) = await reader.WaitAsync(cts.Token);
            var inner = Assert.IsType<ShmipcException>(failure.InnerException);
            Assert.Equal(ShmipcErrorCode.PeerClosed, inner.ErrorCode);
            Assert.True(failedAt > killedAt, "the stream failed before the peer was killed");
            var delay = Stopwatch.GetElapsedTime(killedAt, failedAt);
            Assert.True(delay < DetectionBound, $"the stream failed {delay.TotalMilliseconds:0} ms after the kill");
            Assert.True(verified >= 16, $"only {verified} messages were verified before the crash");
        }

        var completion = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(cts.Token));
        Assert.Equal(ShmipcErrorCode.PeerClosed, completion.ErrorCode);
        Assert.True(session.IsClosed);
        Assert.Equal(0, session.ActiveStreamCount);
        Assert.Empty(CrossProcessFixture.ShmFiles(prefix));

        // The killed process's SIGKILL exit code is 128 + 9.
        Assert.Equal(137, await peer.WaitForExitAsync(CrossProcessFixture.Timeout));
    }

    public void Dispose() => _fixture.Detach();

    /// <summary>Verifies every message in sequence until Input fails; returns the count, the failure and its timestamp.</summary>
    private static async Task<(int Verified, ChannelClosedException Failure, long FailedAt)> ReadUntilFailureAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        var verified = 0;
        try
        {
            while (true)
            {
                using var message = await stream.Input.ReadAsync(cancellationToken);
                Messages.Verify(message.Data, MessageSize, PayloadPattern.SequenceSeed((uint)verified, stream.Id), $"message #{verified} of stream {stream.Id}");
                verified++;
            }
        }
        catch (ChannelClosedException e)
        {
            return (verified, e, Stopwatch.GetTimestamp());
        }
    }
}
