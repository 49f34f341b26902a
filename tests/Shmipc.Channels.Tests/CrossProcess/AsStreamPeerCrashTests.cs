using System.Diagnostics;
using Shmipc.Channels.Tests.Peer;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// <see cref="ShmipcStreamIOExtensions.AsStream"/> reading a peer process that streams 64 KiB messages, with a buffer
/// that never lines up with them; the peer is then killed with SIGKILL: the read fails with an
/// <see cref="IOException"/> carrying <see cref="ShmipcErrorCode.PeerClosed"/>, promptly.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class AsStreamPeerCrashTests : IDisposable
{
    private const int MessageSize = 64 * 1024;
    private const long VerifiedBeforeKill = 16;

    // The session notices the kill within a second (PeerCrashTests); the bound is generous for a loaded machine.
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(2);

    private readonly CrossProcessFixture _fixture;

    public AsStreamPeerCrashTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    [Fact]
    public async Task A_killed_peer_fails_a_read_with_an_IOException_carrying_PeerClosed()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("asstream-crash");
        await using var peer = _fixture.StartPeer("asstream-crash", "crash-midway", _fixture.ListenerPath, "--memfd", "--prefix", prefix, "--streams", "1");
        var ready = await peer.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        var session = await _fixture.AcceptSessionAsync(ready.Split(' ')[1]);
        var shmipcStream = await session.AcceptStreamAsync(cts.Token);
        await using var stream = shmipcStream.AsStream();

        // The kill comes once the reader has verified VerifiedBeforeKill messages: the peer having written them is not
        // enough, as messages still unread when the session fails are dropped with it (SessionStream.Fail), and a
        // reader behind on a loaded machine then saw fewer (a flake: "only 720896 bytes were verified").
        var verifiedEnough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(
            async () =>
            {
                // 10 000-byte reads: most of them span two messages.
                var buffer = new byte[10_000];
                long position = 0;
                try
                {
                    while (true)
                    {
                        var n = await stream.ReadAsync(buffer, cts.Token);
                        Assert.NotEqual(0, n);
                        for (var i = 0; i < n; i++, position++)
                        {
                            var seed = PayloadPattern.SequenceSeed((uint)(position / MessageSize), shmipcStream.Id);
                            if (buffer[i] != PayloadPattern.At(seed, (int)(position % MessageSize)))
                            {
                                Assert.Fail($"byte {position} of the stream differs from the pattern");
                            }
                        }

                        if (position >= VerifiedBeforeKill * MessageSize)
                        {
                            verifiedEnough.TrySetResult();
                        }
                    }
                }
                catch (IOException e)
                {
                    return (position, e, Stopwatch.GetTimestamp());
                }
            },
            cts.Token);

        await peer.WaitForLineAsync($"INFLIGHT {session.Name} ", CrossProcessFixture.Timeout);
        await Task.WhenAny(verifiedEnough.Task, reader).WaitAsync(cts.Token);
        if (reader.IsCompleted)
        {
            var (early, earlyFailure, _) = await reader;
            Assert.Fail($"the read failed after {early} bytes, before the kill: {earlyFailure}");
        }

        var kill = peer.KillNow();

        var (read, failure, failedAt) = await reader.WaitAsync(cts.Token);
        Assert.Equal(ShmipcErrorCode.PeerClosed, Assert.IsType<ShmipcException>(failure.InnerException).ErrorCode);
        await kill.AssertWithinAsync(failedAt, DetectionBound, "the read failed");
        Assert.True(read >= VerifiedBeforeKill * MessageSize, $"only {read} bytes were verified before the crash");
        Assert.Equal(137, await peer.WaitForExitAsync(CrossProcessFixture.Timeout));
    }

    public void Dispose() => _fixture.Detach();
}
