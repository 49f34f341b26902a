using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Peers that complete a valid handshake and then misbehave: the session with the hostile peer must close with an
/// error that names the fault, while the test process and another, healthy session on the same listener keep working.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class HostilePeerTests : IDisposable
{
    private readonly CrossProcessFixture _fixture;

    public HostilePeerTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    public static TheoryData<string, string> GarbageFrames => new()
    {
        { "bad-magic", "magic 0x1234, expected 0x7758" },
        { "handshake-type", "type 5 (ShareMemoryByMemfd) is a handshake frame" },
        { "short-fallback", "length 10, expected at least 16" },
        { "huge-length", "length 2147483648 exceeds the maximum frame length" },
    };

    public static TheoryData<string, string> CorruptOffsets => new()
    {
        { "beyond-region", "is outside every slice region" },
        { "inside-slice", "not at a slice header" },
        { "loop", "(loop)" },
        { "size-over-cap", "> cap" },
    };

    [Theory]
    [MemberData(nameof(GarbageFrames))]
    public async Task DataPhase_GarbageFrameAfterValidHandshake_OnlyThatSessionClosesWithProtocolViolation(string kind, string fragment) =>
        await RunHostileAsync("hostile-garbage", kind, ShmipcErrorCode.ProtocolViolation, fragment);

    [Theory]
    [MemberData(nameof(CorruptOffsets))]
    public async Task DataPhase_CorruptQueueElementAfterValidHandshake_OnlyThatSessionClosesWithCorruptSharedMemory(string kind, string fragment) =>
        await RunHostileAsync("hostile-offsets", kind, ShmipcErrorCode.CorruptSharedMemory, fragment);

    public void Dispose() => _fixture.Detach();

    private async Task RunHostileAsync(string verb, string kind, ShmipcErrorCode expectedCode, string fragment)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);

        // The healthy neighbour: a peer client on the same listener, connected before the hostile one.
        var healthy = await _fixture.GetPeerClientAsync(MemoryMapType.MemFd);

        await using var hostile = _fixture.StartPeer($"{verb}-{kind}", verb, _fixture.ListenerPath, "--kind", kind);
        var ready = await hostile.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        var session = await _fixture.AcceptSessionAsync(ready.Split(' ')[1]);

        var error = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(cts.Token));
        Assert.Equal(expectedCode, error.ErrorCode);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.True(session.IsClosed);

        // The hostile peer sees its connection closed by the server, and exits.
        await hostile.WaitForLineAsync("SERVER-CLOSED closed", CrossProcessFixture.Timeout);
        Assert.Equal(0, await hostile.WaitForExitAsync(CrossProcessFixture.Timeout));

        // The healthy session on the same listener, and the test's own client session, still work.
        Assert.False(healthy.Session.IsClosed);
        var stream = (await _fixture.OpenPeerStreamsAsync(healthy, 1, cts.Token))[0];
        await Messages.RoundTripAsync(stream, 4096, 11, cts.Token);
        stream.Output.Complete();
        await healthy.Process.WaitForLineAsync($"STREAM-END {healthy.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        await stream.DisposeAsync();

        var own = await _fixture.GetEchoClientSessionAsync(MemoryMapType.MemFd);
        var ownStream = own.OpenStream();
        await Messages.RoundTripAsync(ownStream, 4096, 12, cts.Token);
        ownStream.Output.Complete();
        await _fixture.EchoServerPeer.WaitForLineAsync($"STREAM-END {own.Name} {ownStream.Id} ", CrossProcessFixture.Timeout);
        await ownStream.DisposeAsync();

        // And the listener still accepts new sessions.
        var fresh = await _fixture.StartPeerClientAsync(MemoryMapType.MemFd);
        await using (fresh.Process)
        {
            Assert.False(fresh.Session.IsClosed);
        }
    }
}
