using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Shmipc.Channels.Interop;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Closing while the peer misbehaves or the user forgets: a session closes promptly even with a writer stuck behind a
/// peer that stopped reading; a write timeout leaves the stream usable; a stream both sides are done with is released
/// without Dispose; and large fallback traffic leaves no memory behind.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class SessionCloseTests : IDisposable
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(3);

    private readonly CrossProcessFixture _fixture;

    public SessionCloseTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    [Fact]
    public async Task DisposeAsync_WriterStuckInAFallbackSend_ReturnsPromptlyAndTheWriterGetsSessionClosed()
    {
        // An infinite write timeout: only the close can end the stuck send.
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var (listener, peer, session, stream) = await StartStallAsync(System.Threading.Timeout.InfiniteTimeSpan, 1024, cts.Token);
        await using (listener)
        await using (peer)
        {
            // 4 MiB cannot fit the peer's 1 MiB region: it goes over the socket, which the peer does not read.
            var writer = Task.Run(() => stream.WriteAsync(new byte[4 * 1024 * 1024]).AsTask());
            await Messages.EventuallyAsync(() => writer.IsCompleted || !IsWritable(session), CrossProcessFixture.Timeout, "the writer to fill the socket");
            Assert.False(writer.IsCompleted, "the writer should be stuck in its send");

            var stopwatch = Stopwatch.StartNew();
            await Task.Run(() => session.DisposeAsync().AsTask()).WaitAsync(Prompt);
            var error = await Assert.ThrowsAsync<ChannelClosedException>(() => writer.WaitAsync(Prompt));
            Assert.Equal(ShmipcErrorCode.SessionClosed, Assert.IsType<ShmipcException>(error.InnerException).ErrorCode);
            Assert.True(stopwatch.Elapsed < Prompt, $"closing took {stopwatch.Elapsed}");
        }
    }

    [Fact]
    public async Task WriteAsync_QueueFullPastTheWriteTimeout_ThrowsTimeoutAndTheStreamStaysUsable()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        const int Queue = 8;
        var (listener, peer, session, stream) = await StartStallAsync(TimeSpan.FromMilliseconds(300), Queue, cts.Token);
        await using (listener)
        await using (peer)
        {
            for (var i = 0; i < Queue; i++)
            {
                await Messages.WriteAsync(stream, 100, (uint)i, cts.Token);
            }

            var lease = stream.Rent();
            Encoding.ASCII.GetBytes("one more", lease.Writer);
            var error = await Assert.ThrowsAsync<ShmipcException>(() => stream.Output.WriteAsync(lease, cts.Token).AsTask());
            Assert.Equal(ShmipcErrorCode.Timeout, error.ErrorCode);
            Assert.True(lease.IsValid, "the lease a timed-out write did not take stays with the caller");
            Assert.False(session.IsClosed);

            // The peer reads again: the same lease goes out on the same stream.
            Assert.Equal($"DRAINED {Queue}", await peer.CommandAsync("drain", "DRAINED ", CrossProcessFixture.Timeout));
            await stream.Output.WriteAsync(lease, cts.Token);
            Assert.Equal("DRAINED 1", await peer.CommandAsync("drain", "DRAINED ", CrossProcessFixture.Timeout));
            await session.DisposeAsync();
        }
    }

    [Fact]
    public async Task Input_ReadToTheEndAfterThePeerClientClosed_ServerStreamIsReleasedWithoutDispose()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var client = await _fixture.StartPeerClientAsync(MemoryMapType.MemFd);
        await using (client.Process)
        {
            var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];
            await Messages.RoundTripAsync(stream, 3000, 1, cts.Token);
            await client.Process.CommandAsync($"close {client.Name} {stream.Id}", $"CLOSED {client.Name} {stream.Id}", CrossProcessFixture.Timeout);
            await ReadToTheEndAsync(stream, cts.Token);

            // Not disposed: both ends must still let go of the stream.
            await Messages.EventuallyAsync(() => client.Session.ActiveStreamCount == 0, CrossProcessFixture.Timeout, "the test server's stream count to return to 0");
            await Messages.EventuallyAsync(
                () => CrossProcessFixture.PeerStatsAsync(client.Process, client.Name),
                s => s.Contains(" active=0 ", StringComparison.Ordinal),
                CrossProcessFixture.Timeout,
                "the peer client's stream count to return to 0");
            GC.KeepAlive(stream);
            await client.Session.DisposeAsync();
        }
    }

    [Fact]
    public async Task Input_ReadToTheEndAfterThePeerServerClosed_ClientStreamIsReleasedWithoutDispose()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var session = await _fixture.ConnectAsync(await _fixture.GetEchoServerAsync(), new ShmipcClientOptions { PathPrefix = _fixture.NewPrefix("release") }, cts.Token);
        var stream = session.OpenStream();
        await Messages.RoundTripAsync(stream, 3000, 2, cts.Token);
        await _fixture.EchoServerPeer.CommandAsync($"close {session.Name} {stream.Id}", $"CLOSED {session.Name} {stream.Id}", CrossProcessFixture.Timeout);
        await ReadToTheEndAsync(stream, cts.Token);

        await Messages.EventuallyAsync(() => session.ActiveStreamCount == 0, CrossProcessFixture.Timeout, "the test client's stream count to return to 0");
        await Messages.EventuallyAsync(
            () => CrossProcessFixture.PeerStatsAsync(_fixture.EchoServerPeer, session.Name),
            s => s.Contains(" active=0 ", StringComparison.Ordinal),
            CrossProcessFixture.Timeout,
            "the peer server's stream count to return to 0");
        GC.KeepAlive(stream);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task FallbackTraffic_LargeMessagesBothWays_PeerHeapReturnsToItsBaseline()
    {
        // The peer client has a 1 MiB region: every 8 MiB message goes over the socket both ways, through its receive
        // buffer, a heap copy for the reader, and its echo's heap lease and frame.
        const int Size = 8 * 1024 * 1024;
        const long Allowed = 8L * 1024 * 1024;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var client = await _fixture.StartPeerClientAsync(MemoryMapType.MemFd, "--buffer", (1024 * 1024).ToString(CultureInfo.InvariantCulture), "--slice", "16384");
        await using (client.Process)
        {
            var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];
            await Messages.RoundTripAsync(stream, 20_000, 1, cts.Token);
            var baseline = await PeerHeapAsync(client.Process);
            for (var i = 0; i < 6; i++)
            {
                await Messages.RoundTripAsync(stream, Size, (uint)i, cts.Token);
            }

            Assert.True(client.Session.FallbackReadCount >= 6, $"FallbackReadCount {client.Session.FallbackReadCount}");
            var after = await PeerHeapAsync(client.Process);
            Assert.True(after - baseline < Allowed, $"the peer's heap grew by {after - baseline} bytes ({baseline} → {after}) after the traffic");
            await stream.DisposeAsync();
            await client.Session.DisposeAsync();
        }
    }

    public void Dispose() => _fixture.Detach();

    private static async Task ReadToTheEndAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        await foreach (var message in stream.Input.ReadAllAsync(cancellationToken))
        {
            message.Dispose();
        }
    }

    private static async Task<long> PeerHeapAsync(PeerProcess peer)
    {
        var line = await peer.CommandAsync("memory", "MEMORY ", CrossProcessFixture.Timeout);
        return long.Parse(line["MEMORY managed=".Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the session's socket would take more bytes now (poll with a zero timeout).</summary>
    private static bool IsWritable(ShmipcSession session) =>
        Poll.Wait(session.Engine.Socket.Handle, Shmipc.Channels.Interop.Interop.POLLOUT, new Deadline(0)) != 0;

    /// <summary>
    /// A listener of its own (for the write timeout) with a <c>stall</c> peer client: it sent "hello 2" on stream 2 and
    /// now reads neither its socket nor its queue (until <c>drain</c>).
    /// </summary>
    private async Task<(ShmipcListener Listener, PeerProcess Peer, ShmipcSession Session, ShmipcStream Stream)> StartStallAsync(
        TimeSpan writeTimeout, uint queueCapacity, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_fixture.Directory, $"stall-{Guid.NewGuid().ToString("N")[..8]}.sock");
        var listener = ShmipcListener.Bind(path, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5), WriteTimeout = writeTimeout });
        var peer = _fixture.StartPeer("stall", "stall", path, "--queue", queueCapacity.ToString(CultureInfo.InvariantCulture));
        await peer.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        var session = await listener.AcceptAsync(cancellationToken);
        var stream = await session.AcceptStreamAsync(cancellationToken);
        using (var hello = await stream.Input.ReadAsync(cancellationToken))
        {
            Assert.Equal($"hello {stream.Id}", Encoding.ASCII.GetString(hello.Data));
        }

        return (listener, peer, session, stream);
    }
}
