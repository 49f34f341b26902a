using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// The fallback path (docs/PROTOCOL.md §7) forced with a 1 MiB region of one 16 KiB size class: messages that cannot fit,
/// or so many messages held unread that the region runs out, travel over the socket — intact and in order.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class FallbackTests : IDisposable
{
    private const int TinyBuffer = 1024 * 1024;
    private const int TinySlice = 16 * 1024;
    private const int HeldMessages = 150;
    private const int HeldMessageSize = 12 * 1024;

    private readonly CrossProcessFixture _fixture;

    public FallbackTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    public static TheoryData<MemoryMapType> Modes => new() { MemoryMapType.MemFd, MemoryMapType.DevShmFile };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task WriteAsync_MessagesLargerThanTheRegion_ArriveIntactOverTheSocket(MemoryMapType mode)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("tiny");
        var session = await _fixture.ConnectAsync(await _fixture.GetEchoServerAsync(), Tiny(mode, prefix), cts.Token);
        var stream = session.OpenStream();

        // 3 MiB and 1.5 MiB cannot fit a 1 MiB region. The small one goes through shared memory again: both peers are
        // Shmipc.NET and announced that they order fallback frames (towards shmipc-go it would follow over the socket).
        foreach (var (size, seed) in new[] { (3 * 1024 * 1024, 1u), (1536 * 1024, 2u), (100, 3u) })
        {
            await Messages.RoundTripAsync(stream, size, seed, cts.Token);
        }

        Assert.Equal(2, session.FallbackWriteCount);
        Assert.Equal(2, session.FallbackReadCount);
        Assert.False(stream.IsInFallback);
        await CloseAsync(session, stream, prefix, 3);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task WriteAsync_ManyMessagesHeldUnread_ArriveIntactAndInOrder(MemoryMapType mode)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("tiny");
        var session = await _fixture.ConnectAsync(await _fixture.GetEchoServerAsync(), Tiny(mode, prefix), cts.Token);
        var stream = session.OpenStream();

        // 150 × 12 KiB against 62 usable slices: the unread echoes pin the region and the rest must fall back.
        for (var i = 0; i < HeldMessages; i++)
        {
            await Messages.WriteAsync(stream, HeldMessageSize, (uint)i, cts.Token);
        }

        for (var i = 0; i < HeldMessages; i++)
        {
            await Messages.ReadAndVerifyAsync(stream, HeldMessageSize, (uint)i, $"echo #{i}", cts.Token);
        }

        Assert.True(session.FallbackWriteCount > 0, $"FallbackWriteCount {session.FallbackWriteCount}");
        Assert.True(session.FallbackReadCount > 0, $"FallbackReadCount {session.FallbackReadCount}");
        await CloseAsync(session, stream, prefix, HeldMessages);
    }

    [Fact]
    public async Task WriteAsync_ManyMessagesHeldUnreadByServer_ArriveIntactAndInOrder()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);

        // The test process is the server: every message it writes is allocated in the peer client's tiny region.
        var client = await _fixture.StartPeerClientAsync(
            MemoryMapType.MemFd,
            "--buffer",
            TinyBuffer.ToString(CultureInfo.InvariantCulture),
            "--slice",
            TinySlice.ToString(CultureInfo.InvariantCulture));
        await using (client.Process)
        {
            var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];
            for (var i = 0; i < HeldMessages; i++)
            {
                await Messages.WriteAsync(stream, HeldMessageSize, (uint)i, cts.Token);
            }

            for (var i = 0; i < HeldMessages; i++)
            {
                await Messages.ReadAndVerifyAsync(stream, HeldMessageSize, (uint)i, $"echo #{i}", cts.Token);
            }

            Assert.True(client.Session.FallbackWriteCount > 0, $"FallbackWriteCount {client.Session.FallbackWriteCount}");
            Assert.True(client.Session.FallbackReadCount > 0, $"FallbackReadCount {client.Session.FallbackReadCount}");
            stream.Output.Complete();
            var end = await client.Process.WaitForLineAsync($"STREAM-END {client.Name} {stream.Id} ", CrossProcessFixture.Timeout);
            Assert.Contains($" count={HeldMessages} ", end, StringComparison.Ordinal);
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task OutputComplete_RightAfterFallbackWrites_PeerReceivesEveryMessageBeforeTheClose()
    {
        // The close notice must not overtake the fallback frames still in the socket (docs/PROTOCOL.md §14.20).
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("tiny");
        var session = await _fixture.ConnectAsync(await _fixture.GetSinkServerAsync(), Tiny(MemoryMapType.MemFd, prefix), cts.Token);
        const int Count = 4;
        const int Size = 1536 * 1024;
        for (var round = 0; round < 3; round++)
        {
            var stream = session.OpenStream();
            for (var i = 0; i < Count; i++)
            {
                await Messages.WriteAsync(stream, Size, (uint)i, cts.Token);
            }

            stream.Output.Complete();
            var end = await _fixture.SinkServerPeer.WaitForLineAsync($"STREAM-END {session.Name} {stream.Id} ", CrossProcessFixture.Timeout);
            Assert.Equal($"STREAM-END {session.Name} {stream.Id} count={Count} bytes={Count * Size} probe=StreamClosed", end);
            await stream.DisposeAsync();
        }

        Assert.Equal(3 * Count, session.FallbackWriteCount);
        await session.DisposeAsync();
    }

    public void Dispose() => _fixture.Detach();

    private static ShmipcClientOptions Tiny(MemoryMapType mode, string prefix) => new()
    {
        MemoryMapType = mode,
        BufferCapacity = TinyBuffer,
        SizeClasses = [new BufferSizeClass(TinySlice, 100)],
        PathPrefix = prefix,
    };

    private async Task CloseAsync(ShmipcSession session, ShmipcStream stream, string prefix, int received)
    {
        stream.Output.Complete();
        var end = await _fixture.EchoServerPeer.WaitForLineAsync($"STREAM-END {session.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        Assert.Contains($" count={received} ", end, StringComparison.Ordinal);
        await stream.DisposeAsync();
        await session.DisposeAsync();
        Assert.Empty(CrossProcessFixture.ShmFiles(prefix));
    }
}
