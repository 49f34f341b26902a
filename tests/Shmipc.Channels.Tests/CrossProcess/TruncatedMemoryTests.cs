using System.Buffers;
using System.Text;
using Shmipc.Channels.Interop;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// A peer truncates the shared memory this process has mapped. Before the SIGBUS guard, the next touch of a page that
/// was cut off killed the whole process (SIGBUS → fatal AccessViolationException, exit 134), with every session in it.
/// Now only the session whose memory was truncated closes, with an error that says so; the process, its listener and
/// its other sessions carry on. Memory Shmipc.NET creates in memfd mode is sealed, so the kernel refuses the truncation.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class TruncatedMemoryTests : IDisposable
{
    private readonly CrossProcessFixture _fixture;

    public TruncatedMemoryTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    public static TheoryData<string, string> ShrinkCases => new()
    {
        { "--memfd", "buffer" },
        { "--memfd", "queue" },
        { "--file", "buffer" },
        { "--file", "queue" },
    };

    public void Dispose() => _fixture.Detach();

    [Theory]
    [MemberData(nameof(ShrinkCases))]
    public async Task Server_ClientTruncatesUnsealedMemory_OnlyThatSessionClosesAndTheServerCarriesOn(string mode, string kind)
    {
        if (!SigbusGuard.IsSupported)
        {
            return; // arm64: no guard, the documented risk remains (SigbusGuardTests checks regions say so)
        }
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var healthy = await _fixture.GetPeerClientAsync(MemoryMapType.MemFd);

        // A client whose memory can shrink, as a shmipc-go client's can: an unsealed memfd, or /dev/shm files.
        var prefix = _fixture.NewPrefix("shrink");
        await using var shrinking = _fixture.StartPeer($"shrink-{mode[2..]}-{kind}", "shrink", _fixture.ListenerPath, mode, "--kind", kind, "--prefix", prefix);
        var ready = await shrinking.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        var session = await _fixture.AcceptSessionAsync(ready.Split(' ')[1]);
        var stream = await session.AcceptStreamAsync(cts.Token);
        var before = await stream.Input.ReadAsync(cts.Token);
        Assert.Equal("before the shrink", Encoding.ASCII.GetString(before.Data));

        shrinking.Send("shrink");
        await shrinking.WaitForLineAsync("SHRUNK ", CrossProcessFixture.Timeout);

        var error = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(cts.Token));
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, error.ErrorCode);
        Assert.Contains($"the peer truncated the shared {(kind == "buffer" ? "buffer region" : "queue")}", error.Message, StringComparison.Ordinal);
        Assert.Contains("to 0 bytes while", error.Message, StringComparison.Ordinal);
        Assert.True(session.IsClosed);
        var streamError = await Assert.ThrowsAnyAsync<Exception>(async () => await stream.Input.ReadAsync(cts.Token));
        Assert.Contains("truncated", (streamError.InnerException ?? streamError).Message, StringComparison.Ordinal);

        // A lease still held over a truncated page reads zeros (and the process survives reading it).
        if (kind == "buffer")
        {
            Assert.All(before.Data.ToArray(), b => Assert.Equal(0, b));
        }

        before.Dispose();
        await shrinking.WaitForLineAsync("SERVER-CLOSED closed", CrossProcessFixture.Timeout);
        Assert.Equal(0, await shrinking.WaitForExitAsync(CrossProcessFixture.Timeout));

        await AssertListenerAndNeighbourWorkAsync(healthy, cts.Token);
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, CrossProcessFixture.Timeout, $"no files left under {prefix}");
    }

    [Theory]
    [InlineData("buffer")]
    [InlineData("queue")]
    public async Task Client_ServerTruncatesFileModeMemory_OnlyThatSessionClosesAndTheClientCarriesOn(string kind)
    {
        if (!SigbusGuard.IsSupported)
        {
            return; // arm64: no guard, the documented risk remains (SigbusGuardTests checks regions say so)
        }
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var socketPath = Path.Combine(_fixture.Directory, $"truncating-{kind}.sock");
        await using var server = _fixture.StartPeer($"truncating-server-{kind}", "hostile-truncate-server", socketPath, "--kind", kind);
        await server.WaitForLineAsync("LISTENING", CrossProcessFixture.Timeout);

        var prefix = _fixture.NewPrefix("victim");
        var session = await _fixture.ConnectAsync(
            socketPath,
            new ShmipcClientOptions { MemoryMapType = MemoryMapType.DevShmFile, PathPrefix = prefix, BufferCapacity = 1024 * 1024 },
            cts.Token);
        await server.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
        var stream = session.OpenStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("hello"), cts.Token);

        // A lease the application still holds keeps the (soon truncated) buffer region alive.
        var held = stream.Rent();

        server.Send("truncate");
        await server.WaitForLineAsync("TRUNCATED ", CrossProcessFixture.Timeout);

        var error = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(cts.Token));
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, error.ErrorCode);
        Assert.Contains($"the peer truncated the shared {(kind == "buffer" ? "buffer region" : "queue")}", error.Message, StringComparison.Ordinal);
        await server.WaitForLineAsync("CLIENT-CLOSED closed", CrossProcessFixture.Timeout);
        Assert.Equal(0, await server.WaitForExitAsync(CrossProcessFixture.Timeout));
        await stream.DisposeAsync();

        // The client process carries on: a new session with the same options (so a fresh buffer region: the truncated
        // one is not handed out again) exchanges messages with another server.
        var again = await _fixture.ConnectAsync(
            await _fixture.GetEchoServerAsync(),
            new ShmipcClientOptions { MemoryMapType = MemoryMapType.DevShmFile, PathPrefix = prefix, BufferCapacity = 1024 * 1024 },
            cts.Token);
        var againStream = again.OpenStream();
        await Messages.RoundTripAsync(againStream, 4096, 21, cts.Token);
        againStream.Output.Complete();
        await _fixture.EchoServerPeer.WaitForLineAsync($"STREAM-END {again.Name} {againStream.Id} ", CrossProcessFixture.Timeout);
        await againStream.DisposeAsync();
        Assert.False(again.IsClosed);
        await again.DisposeAsync();
        held.Dispose();

        await session.DisposeAsync();
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, CrossProcessFixture.Timeout, $"no files left under {prefix}");
    }

    [Fact]
    public async Task Client_MemFdIsSealed_TheServerCannotTruncateIt()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var socketPath = Path.Combine(_fixture.Directory, "truncating-memfd.sock");
        await using var server = _fixture.StartPeer("truncating-server-memfd", "hostile-truncate-server", socketPath, "--kind", "buffer");
        await server.WaitForLineAsync("LISTENING", CrossProcessFixture.Timeout);

        var session = await _fixture.ConnectAsync(
            socketPath,
            new ShmipcClientOptions { MemoryMapType = MemoryMapType.MemFd, PathPrefix = _fixture.NewPrefix("sealed"), BufferCapacity = 1024 * 1024 },
            cts.Token);

        // F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW = 7; the kernel refuses the shrink with EPERM.
        await server.WaitForLineAsync("TRUNCATE buffer EPERM seals=7", CrossProcessFixture.Timeout);
        await server.WaitForLineAsync("TRUNCATE queue EPERM seals=7", CrossProcessFixture.Timeout);
        Assert.False(session.IsClosed);
        await session.DisposeAsync();
    }

    [Theory]
    [InlineData("--memfd")]
    [InlineData("--file")]
    public async Task Server_RequireSealedMemory_RefusesUnsealedClientsAtTheHandshake(string mode)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var socketPath = Path.Combine(_fixture.Directory, $"sealed-only{mode[1..]}.sock");
        await using var listener = ShmipcListener.Bind(socketPath, new ShmipcServerOptions { RequireSealedMemory = true, HandshakeTimeout = TimeSpan.FromSeconds(5) });

        var prefix = _fixture.NewPrefix("unsealed");
        await using var unsealed = _fixture.StartPeer($"unsealed{mode[1..]}", "shrink", socketPath, mode, "--kind", "buffer", "--prefix", prefix);
        var failure = await listener.HandshakeFailures.ReadAsync(cts.Token);
        Assert.Equal(ShmipcErrorCode.HandshakeFailed, failure.ErrorCode);
        Assert.Contains(mode == "--memfd" ? "not sealed against shrinking" : "shares memory through files", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RequireSealedMemory", failure.Message, StringComparison.Ordinal);
        if (mode == "--memfd")
        {
            // A v3 client waits for the server's acknowledgement, which never comes.
            Assert.NotEqual(0, await unsealed.WaitForExitAsync(CrossProcessFixture.Timeout));
        }
        else
        {
            // A v2 file-mode client does not wait: it sends its first message at once and then waits for a command. If
            // its Polling frame reached the socket after the server closed it, it died of EPIPE (exit 1); if before (a
            // loaded server is slower), it is still waiting, its files in place; the server leaves files it refused alone.
            // Either way the client removes its own files as it ends (stdin closed: exit 2). Waiting for them to go while
            // it might still wait for its command was the flake: 15 s, then "no files left" failed.
            unsealed.CloseInput();
            Assert.Contains(await unsealed.WaitForExitAsync(CrossProcessFixture.Timeout), new[] { 1, 2 });
        }

        // A Shmipc.NET client (sealed memfds) is accepted.
        var client = await _fixture.ConnectAsync(socketPath, new ShmipcClientOptions { PathPrefix = _fixture.NewPrefix("sealed-ok") }, cts.Token);
        var accepted = await listener.AcceptAsync(cts.Token);
        Assert.Equal(client.Name, accepted.Name);
        await client.DisposeAsync();
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, CrossProcessFixture.Timeout, $"no files left under {prefix}");
    }

    private async Task AssertListenerAndNeighbourWorkAsync(PeerClient healthy, CancellationToken cancellationToken)
    {
        Assert.False(healthy.Session.IsClosed);
        var stream = (await _fixture.OpenPeerStreamsAsync(healthy, 1, cancellationToken))[0];
        await Messages.RoundTripAsync(stream, 4096, 31, cancellationToken);
        stream.Output.Complete();
        await healthy.Process.WaitForLineAsync($"STREAM-END {healthy.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        await stream.DisposeAsync();

        var fresh = await _fixture.StartPeerClientAsync(MemoryMapType.MemFd);
        await using (fresh.Process)
        {
            Assert.False(fresh.Session.IsClosed);
        }
    }
}
