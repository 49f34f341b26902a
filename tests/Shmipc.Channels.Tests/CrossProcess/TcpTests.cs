using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// File mode over TCP on 127.0.0.1 (as shmipc-go allows), against a peer in another process both ways round:
/// <see cref="ShmipcClient.ConnectTcpAsync"/> to a peer serving with <c>--tcp</c>, and a peer connecting with
/// <c>--tcp</c> to <see cref="ShmipcListener.BindTcp"/> in the test process. Memory is in /dev/shm files (memfds cannot
/// travel over TCP); the socket carries the handshake, the wake-ups and the fallback messages. Covered: the handshake
/// and a ping-pong with every byte checked both ways round, fallback both ways round, SIGKILL of either side (the
/// survivor fails its pending read, removes the files, and connects or accepts again), ConnectTcpAsync without options
/// (file mode), memfd refused by the client before connecting and by the listener when a client announces it anyway.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class TcpTests : IDisposable
{
    private const int TinyBuffer = 1024 * 1024;
    private const int TinySlice = 16 * 1024;
    private static readonly int[] Sizes = [1, 64, 4 * 1024, 64 * 1024, 1024 * 1024];
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(2);
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    private readonly CrossProcessFixture _fixture;

    public TcpTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    [Fact]
    public async Task ConnectTcpAsync_PeerServerOverTcp_HandshakesAndEchoesEveryByte()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("tcp");
        var (server, endPoint) = await StartTcpServerAsync("echo");
        await using (server)
        {
            var session = await ShmipcClient.ConnectTcpAsync(endPoint, FileMode(prefix), cts.Token);
            Assert.Equal(2, CrossProcessFixture.ShmFiles(prefix).Length);
            var stream = session.OpenStream();
            var seed = 0u;
            foreach (var size in Sizes)
            {
                for (var round = 0; round < 3; round++)
                {
                    await Messages.RoundTripAsync(stream, size, ++seed, cts.Token);
                }
            }

            // Everything went through shared memory; only the wake-ups used the socket.
            Assert.Equal(0, session.FallbackWriteCount);
            Assert.Equal(0, session.FallbackReadCount);
            await CloseAsync(server, session, stream, prefix, 3 * Sizes.Length);
        }
    }

    [Fact]
    public async Task BindTcp_PeerClientOverTcp_HandshakesAndEchoesEveryByte()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        await using var listener = ShmipcListener.BindTcp(AnyLoopbackPort, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
        var client = await StartTcpClientAsync(listener);
        await using (client.Process)
        {
            var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];
            var seed = 0u;
            foreach (var size in Sizes)
            {
                for (var round = 0; round < 3; round++)
                {
                    await Messages.RoundTripAsync(stream, size, ++seed, cts.Token);
                }
            }

            Assert.Equal(0, client.Session.FallbackWriteCount);
            stream.Output.Complete();
            var end = await client.Process.WaitForLineAsync($"STREAM-END {client.Name} {stream.Id} ", CrossProcessFixture.Timeout);
            Assert.Contains($" count={3 * Sizes.Length} ", end, StringComparison.Ordinal);
            await stream.DisposeAsync();
            await client.Session.DisposeAsync();
        }

        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(client.Prefix).Length == 0, TimeSpan.FromSeconds(5), "the peer client's files to be removed");
    }

    [Fact]
    public async Task ConnectTcpAsync_TinyRegion_MessagesFallBackOverTheSocketIntact()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("tcptiny");
        var (server, endPoint) = await StartTcpServerAsync("echo");
        await using (server)
        {
            var options = FileMode(prefix);
            options.BufferCapacity = TinyBuffer;
            options.SizeClasses = [new BufferSizeClass(TinySlice, 100)];
            var session = await ShmipcClient.ConnectTcpAsync(endPoint, options, cts.Token);
            var stream = session.OpenStream();

            // 3 MiB and 1.5 MiB cannot fit a 1 MiB region (either way: the server writes its echo into the same region).
            foreach (var (size, seed) in new[] { (3 * 1024 * 1024, 1u), (1536 * 1024, 2u), (100, 3u) })
            {
                await Messages.RoundTripAsync(stream, size, seed, cts.Token);
            }

            Assert.Equal(2, session.FallbackWriteCount);
            Assert.Equal(2, session.FallbackReadCount);
            await CloseAsync(server, session, stream, prefix, 3);
        }
    }

    [Fact]
    public async Task SigKill_ServerPeerOverTcp_PendingReadFailsWithShmipcExceptionAndNoFilesRemain()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("tcpkill");
        var (server, endPoint) = await StartTcpServerAsync("echo");
        await using (server)
        {
            var session = await ShmipcClient.ConnectTcpAsync(endPoint, FileMode(prefix), cts.Token);
            var stream = session.OpenStream();
            await Messages.RoundTripAsync(stream, 4096, 7, cts.Token);
            var pending = ReadUntilFailureAsync(stream, cts.Token);
            Assert.False(pending.IsCompleted);

            var kill = server.KillNow();
            await AssertFailedAfterKillAsync(pending, kill, cts.Token);
            var completion = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(cts.Token));
            Assert.Equal(ShmipcErrorCode.PeerClosed, completion.ErrorCode);
            await stream.DisposeAsync();
            await session.DisposeAsync();
            Assert.Equal(137, await server.WaitForExitAsync(CrossProcessFixture.Timeout));
        }

        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, TimeSpan.FromSeconds(5), "the client's files to be removed");

        // The surviving client process connects again (to a listener of its own: the killed server is gone).
        await using var listener = ShmipcListener.BindTcp(AnyLoopbackPort, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
        await AssertServesAgainAsync(listener, prefix, cts.Token);
    }

    [Fact]
    public async Task SigKill_ClientPeerOverTcp_PendingReadFailsWithShmipcExceptionAndNoFilesRemain()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        await using var listener = ShmipcListener.BindTcp(AnyLoopbackPort, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
        var client = await StartTcpClientAsync(listener);
        await using (client.Process)
        {
            var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];
            await Messages.RoundTripAsync(stream, 4096, 7, cts.Token);
            Assert.Equal(2, CrossProcessFixture.ShmFiles(client.Prefix).Length);
            var pending = ReadUntilFailureAsync(stream, cts.Token);
            Assert.False(pending.IsCompleted);

            var kill = client.Process.KillNow();
            await AssertFailedAfterKillAsync(pending, kill, cts.Token);
            var completion = await Assert.ThrowsAsync<ShmipcException>(() => client.Session.Completion.WaitAsync(cts.Token));
            Assert.Equal(ShmipcErrorCode.PeerClosed, completion.ErrorCode);
            await stream.DisposeAsync();
            Assert.Equal(137, await client.Process.WaitForExitAsync(CrossProcessFixture.Timeout));
        }

        // The dead client cannot remove its files; the server does, by inode, when the session has ended.
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(client.Prefix).Length == 0, TimeSpan.FromSeconds(5), "the dead client's files to be removed");

        // The surviving listener accepts again.
        await AssertServesAgainAsync(listener, _fixture.NewPrefix("tcpagain"), cts.Token);
    }

    [Fact]
    public async Task BindTcp_TinyPeerRegion_MessagesFallBackOverTheSocketIntact()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        await using var listener = ShmipcListener.BindTcp(AnyLoopbackPort, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
        var client = await StartTcpClientAsync(listener, "--buffer", TinyBuffer.ToString(System.Globalization.CultureInfo.InvariantCulture), "--slice", TinySlice.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using (client.Process)
        {
            var stream = (await _fixture.OpenPeerStreamsAsync(client, 1, cts.Token))[0];

            // The peer's region is 1 MiB, and the server writes into it too: 3 MiB and 1.5 MiB go over the socket both ways.
            foreach (var (size, seed) in new[] { (3 * 1024 * 1024, 1u), (1536 * 1024, 2u), (100, 3u) })
            {
                await Messages.RoundTripAsync(stream, size, seed, cts.Token);
            }

            Assert.Equal(2, client.Session.FallbackWriteCount);
            Assert.Equal(2, client.Session.FallbackReadCount);
            stream.Output.Complete();
            var end = await client.Process.WaitForLineAsync($"STREAM-END {client.Name} {stream.Id} ", CrossProcessFixture.Timeout);
            Assert.Contains(" count=3 ", end, StringComparison.Ordinal);
            await stream.DisposeAsync();
            await client.Session.DisposeAsync();
        }

        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(client.Prefix).Length == 0, TimeSpan.FromSeconds(5), "the peer client's files to be removed");
    }

    [Fact]
    public async Task BindTcp_ClientAnnouncesMemFd_HandshakeFailsWithHandshakeFailedAndListenerKeepsAccepting()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        await using var listener = ShmipcListener.BindTcp(AnyLoopbackPort, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });

        // A client that ignores the rule and announces memfds over TCP: SCM_RIGHTS cannot cross TCP.
        var (first, second) = SocketFd.CreatePair();
        using (first)
        using (second)
        using (var socket = SocketFd.ConnectTcp(listener.LocalEndPoint!, CrossProcessFixture.Timeout))
        {
            var request = ClientHandshakeRequest.MemFdV3("shmipc_tcp_memfd_queue", "shmipc_tcp_memfd_buffer", first.Fd, second.Fd);
            var client = Task.Run(() => HandshakeClient.Run(new SocketHandshakeTransport(socket), request, CrossProcessFixture.Timeout));
            var failure = await listener.HandshakeFailures.ReadAsync(cts.Token);
            Assert.Equal(ShmipcErrorCode.HandshakeFailed, failure.ErrorCode);
            Assert.Contains("fds", failure.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ShmipcException>(() => client.WaitAsync(cts.Token));
        }

        Assert.False(listener.Sessions.TryRead(out _), "a session was made of a memfd announcement over TCP");
        await AssertServesAgainAsync(listener, _fixture.NewPrefix("tcpafter"), cts.Token);
    }

    [Fact]
    public async Task ConnectTcpAsync_MemFd_RefusedWithInvalidConfigurationBeforeConnecting()
    {
        var server = new TcpListener(AnyLoopbackPort);
        server.Start();
        try
        {
            var endPoint = (IPEndPoint)server.LocalEndpoint;
            var error = await Assert.ThrowsAsync<ShmipcException>(() => ShmipcClient.ConnectTcpAsync(
                endPoint,
                new ShmipcClientOptions { MemoryMapType = MemoryMapType.MemFd, PathPrefix = _fixture.NewPrefix("tcpmemfd") }));
            Assert.Equal(ShmipcErrorCode.InvalidConfiguration, error.ErrorCode);
            Assert.Contains("memfd", error.Message, StringComparison.Ordinal);

            // A connection, even one closed at once, would wait in the backlog: none was made.
            Assert.False(server.Pending(), "the client connected before it refused memfd mode");
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public async Task ConnectTcpAsync_NoOptions_ConnectsInFileMode()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        await using var listener = ShmipcListener.BindTcp(AnyLoopbackPort, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
        var session = await ShmipcClient.ConnectTcpAsync(listener.LocalEndPoint!, cancellationToken: cts.Token);
        var accepted = await listener.AcceptAsync(cts.Token);
        Assert.Equal(session.Name, accepted.Name);

        // File mode: the session is named after its queue file in /dev/shm (memfd names are not paths).
        Assert.StartsWith("/dev/shm/shmipc_", session.Name, StringComparison.Ordinal);
        Assert.True(File.Exists(session.Name), $"{session.Name} does not exist");
        await session.DisposeAsync();
        await accepted.DisposeAsync();
        await Messages.EventuallyAsync(() => !File.Exists(session.Name), TimeSpan.FromSeconds(5), "the queue file to be removed");
    }

    public void Dispose() => _fixture.Detach();

    private static ShmipcClientOptions FileMode(string prefix) => new()
    {
        MemoryMapType = MemoryMapType.DevShmFile,
        PathPrefix = prefix,
        HandshakeTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Reads until Input fails; nothing may arrive before.</summary>
    private static async Task<(ChannelClosedException Failure, long FailedAt)> ReadUntilFailureAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        try
        {
            using var message = await stream.Input.ReadAsync(cancellationToken);
            throw new InvalidOperationException($"stream {stream.Id}: unexpected message of {message.Data.Length} bytes");
        }
        catch (ChannelClosedException e)
        {
            return (e, Stopwatch.GetTimestamp());
        }
    }

    private static async Task AssertFailedAfterKillAsync(Task<(ChannelClosedException Failure, long FailedAt)> pending, PeerKill kill, CancellationToken cancellationToken)
    {
        var (failure, failedAt) = await pending.WaitAsync(cancellationToken);
        var inner = Assert.IsType<ShmipcException>(failure.InnerException);
        Assert.Equal(ShmipcErrorCode.PeerClosed, inner.ErrorCode);
        await kill.AssertWithinAsync(failedAt, DetectionBound, "the pending read failed");
    }

    /// <summary>A <c>serve --tcp</c> peer on a free loopback port, and that port.</summary>
    private async Task<(PeerProcess Peer, IPEndPoint EndPoint)> StartTcpServerAsync(string mode)
    {
        var peer = _fixture.StartPeer($"serve-tcp-{mode}", "serve", "127.0.0.1:0", "--tcp", "--mode", mode);
        var ready = await peer.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        var endPoint = IPEndPoint.Parse(ready.Split(' ')[1]);
        Assert.NotEqual(0, endPoint.Port);
        return (peer, endPoint);
    }

    /// <summary>A <c>connect --tcp --file</c> peer of <paramref name="listener"/>, and the session accepted for it.</summary>
    private async Task<PeerClient> StartTcpClientAsync(ShmipcListener listener, params string[] extraArgs)
    {
        var prefix = _fixture.NewPrefix("tcppeer");
        var endPoint = listener.LocalEndPoint!;
        var peer = _fixture.StartPeer("connect-tcp", ["connect", endPoint.ToString(), "--tcp", "--file", "--prefix", prefix, .. extraArgs]);
        var ready = await peer.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        var name = ready.Split(' ')[1];
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var session = await listener.AcceptAsync(cts.Token);
        Assert.Equal(name, session.Name);
        Assert.Equal(2, CrossProcessFixture.ShmFiles(prefix).Length);
        return new PeerClient(peer, session, prefix);
    }

    /// <summary>A new file-mode client of this process connects over TCP to <paramref name="listener"/>, which accepts it; a 256 KiB message crosses, every byte checked.</summary>
    private static async Task AssertServesAgainAsync(ShmipcListener listener, string prefix, CancellationToken cancellationToken)
    {
        await using var client = await ShmipcClient.ConnectTcpAsync(listener.LocalEndPoint!, FileMode(prefix), cancellationToken);
        await using var server = await listener.AcceptAsync(cancellationToken);
        Assert.Equal(client.Name, server.Name);
        var outgoing = client.OpenStream();
        await Messages.WriteAsync(outgoing, 256 * 1024, 11, cancellationToken);
        var incoming = await server.AcceptStreamAsync(cancellationToken);
        await Messages.ReadAndVerifyAsync(incoming, 256 * 1024, 11, "the first message after the kill", cancellationToken);
        await outgoing.DisposeAsync();
        await incoming.DisposeAsync();
    }

    private static async Task CloseAsync(PeerProcess server, ShmipcSession session, ShmipcStream stream, string prefix, int received)
    {
        stream.Output.Complete();
        var end = await server.WaitForLineAsync($"STREAM-END {session.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        Assert.Contains($" count={received} ", end, StringComparison.Ordinal);
        await stream.DisposeAsync();
        await session.DisposeAsync();
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, TimeSpan.FromSeconds(5), "the client's files to be removed");
    }
}
