using System.Threading.Channels;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Closing a stream from either end, with the test process in either role: the other end's Input drains what was
/// sent before the close and then completes, and its writes fail with <see cref="ShmipcErrorCode.StreamClosed"/>.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class StreamCloseTests : IDisposable
{
    private const int MessageCount = 25;
    private const int MessageSize = 3000;

    private readonly CrossProcessFixture _fixture;

    public StreamCloseTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    [Fact]
    public async Task OutputComplete_TestClientClosesWithMessagesQueued_PeerServerDrainsAllThenInputCompletes()
    {
        // The test process is the client, the peer a sink server that only counts: all 25 must be drained first.
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var session = await _fixture.ConnectAsync(await _fixture.GetSinkServerAsync(), new ShmipcClientOptions { PathPrefix = _fixture.NewPrefix("close") }, cts.Token);
        var stream = session.OpenStream();
        for (var i = 0; i < MessageCount; i++)
        {
            await Messages.WriteAsync(stream, MessageSize, (uint)i, cts.Token);
        }

        stream.Output.Complete();
        var end = await _fixture.SinkServerPeer.WaitForLineAsync($"STREAM-END {session.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        Assert.Equal($"STREAM-END {session.Name} {stream.Id} count={MessageCount} bytes={MessageCount * MessageSize} probe=StreamClosed", end);
        await stream.DisposeAsync();
        await session.DisposeAsync();
    }

    [Fact]
    public async Task OutputComplete_PeerServerCloses_TestClientInputCompletesAndWritesFailWithStreamClosed()
    {
        // The test process is the client; the echo server peer closes the stream on command. A session of its own:
        // shmipc sends nothing back for a stream closed by the peer, so the closer's end lingers until its session ends.
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var session = await _fixture.ConnectAsync(await _fixture.GetEchoServerAsync(), new ShmipcClientOptions { PathPrefix = _fixture.NewPrefix("close") }, cts.Token);
        var stream = session.OpenStream();
        await Messages.RoundTripAsync(stream, MessageSize, 7, cts.Token);

        await _fixture.EchoServerPeer.CommandAsync($"close {session.Name} {stream.Id}", $"CLOSED {session.Name} {stream.Id}", CrossProcessFixture.Timeout);
        Assert.False(await stream.Input.WaitToReadAsync(cts.Token));
        Assert.True(stream.IsClosedByPeer);
        await AssertWritesFailWithStreamClosedAsync(stream, cts.Token);
        await stream.DisposeAsync();
        Assert.Equal(0, session.ActiveStreamCount);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task OutputComplete_PeerClientClosesWithEchoesQueued_TestServerInputDrainsThenCompletes()
    {
        // The test process is the server; a peer client of its own echoes 25 messages and then closes on command.
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var client = await _fixture.StartPeerClientAsync(MemoryMapType.MemFd);
        await using var peer = client.Process;
        var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];
        for (var i = 0; i < MessageCount; i++)
        {
            await Messages.WriteAsync(stream, MessageSize, (uint)i, cts.Token);
        }

        // All echoes are queued in Input (unread) before the close is requested.
        await Messages.EventuallyAsync(() => stream.Input.Count == MessageCount, CrossProcessFixture.Timeout, "25 echoes queued in Input");
        await client.Process.CommandAsync($"close {client.Name} {stream.Id}", $"CLOSED {client.Name} {stream.Id}", CrossProcessFixture.Timeout);

        var read = 0;
        await foreach (var message in stream.Input.ReadAllAsync(cts.Token))
        {
            using (message)
            {
                Messages.Verify(message.Data, MessageSize, (uint)read, $"echo #{read}");
                read++;
            }
        }

        Assert.Equal(MessageCount, read);
        Assert.True(stream.IsClosedByPeer);
        await AssertWritesFailWithStreamClosedAsync(stream, cts.Token);
        await stream.DisposeAsync();
        Assert.Equal(0, client.Session.ActiveStreamCount);
    }

    [Fact]
    public async Task OutputComplete_TestServerCloses_PeerClientInputCompletesAndWritesFailWithStreamClosed()
    {
        // The test process is the server and closes; the peer client reports its Input end and its failed write.
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var client = await _fixture.GetPeerClientAsync(MemoryMapType.DevShmFile);
        var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];
        await Messages.RoundTripAsync(stream, MessageSize, 9, cts.Token);

        stream.Output.Complete();
        var end = await client.Process.WaitForLineAsync($"STREAM-END {client.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        Assert.Equal($"STREAM-END {client.Name} {stream.Id} count=1 bytes={MessageSize} probe=StreamClosed", end);
        await stream.DisposeAsync();
        await Messages.EventuallyAsync(() => client.Session.ActiveStreamCount == 0, TimeSpan.FromSeconds(5), "the server's stream count to return to 0");
    }

    public void Dispose() => _fixture.Detach();

    private static async Task AssertWritesFailWithStreamClosedAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        var copying = await Assert.ThrowsAsync<ChannelClosedException>(() => stream.WriteAsync(new byte[] { 1, 2, 3 }, cancellationToken).AsTask());
        Assert.Equal(ShmipcErrorCode.StreamClosed, Assert.IsType<ShmipcException>(copying.InnerException).ErrorCode);

        var lease = stream.Rent();
        lease.GetSpan(1)[0] = 1;
        lease.Advance(1);
        var leased = await Assert.ThrowsAsync<ChannelClosedException>(() => stream.Output.WriteAsync(lease, cancellationToken).AsTask());
        Assert.Equal(ShmipcErrorCode.StreamClosed, Assert.IsType<ShmipcException>(leased.InnerException).ErrorCode);
        Assert.True(lease.IsValid, "a lease the stream refused stays with the caller");
        lease.Dispose();
    }
}
