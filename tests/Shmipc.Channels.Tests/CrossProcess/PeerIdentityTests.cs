using System.Text;
using System.Runtime.Versioning;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Who may talk to whom: a client cannot take over another client's file-mode session or announce another user's
/// files, a failed handshake leaves no files behind, and both ends refuse a peer of another user unless the options
/// allow it. The other-user parts start the peer as nobody through setpriv (the test process must be root).
/// </summary>
[Collection(CrossProcessCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class PeerIdentityTests : IDisposable
{
    private readonly CrossProcessFixture _fixture;
    private readonly ITestOutputHelper _output;

    public PeerIdentityTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Attach(output);
    }

    [Fact]
    public async Task FileMode_AnotherClientAnnouncingALiveSessionsFiles_IsRefusedAndTheVictimCarriesOn()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var victim = await _fixture.StartPeerClientAsync(MemoryMapType.DevShmFile);
        var stream = (await _fixture.OpenPeerStreamsAsync(victim, 1, cts.Token))[0];
        await Messages.RoundTripAsync(stream, 100, 1, cts.Token);
        var queuePath = victim.Name;
        var bufferPath = Assert.Single(CrossProcessFixture.ShmFiles(victim.Prefix), f => f != queuePath);

        await using (var attacker = _fixture.StartPeer("announce-hijack", "announce", _fixture.ListenerPath, "--queue-path", queuePath, "--buffer-path", bufferPath))
        {
            var result = await attacker.WaitForLineAsync("RESULT ", CrossProcessFixture.Timeout);
            Assert.StartsWith("RESULT refused", result, StringComparison.Ordinal);
            var failure = await WaitForHandshakeFailureAsync(_fixture.Listener, bufferPath);
            Assert.Equal(ShmipcErrorCode.PeerNotAuthorized, failure.ErrorCode);
            Assert.Contains("already uses that file", failure.Message, StringComparison.Ordinal);
        }

        // The attacker is gone: the victim's files are still there and its session still carries messages both ways.
        Assert.True(File.Exists(queuePath), $"the victim's queue file {queuePath} was deleted");
        Assert.True(File.Exists(bufferPath), $"the victim's buffer file {bufferPath} was deleted");
        for (var i = 0; i < 20; i++)
        {
            await Messages.RoundTripAsync(stream, 1000 + i, (uint)(i + 2), cts.Token);
        }

        Assert.False(victim.Session.Completion.IsCompleted, "the victim's session ended");
        await victim.Process.DisposeAsync();
        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(victim.Prefix).Length == 0, CrossProcessFixture.Timeout, "the victim's files to be removed after it left");
    }

    [Fact]
    public async Task FileMode_SessionsOfOneClientProcessSharingItsBufferRegion_AreAllAccepted()
    {
        // shmipc-go's SessionManager shares one buffer file among a process's sessions (Shmipc.NET gives each session
        // its own): the in-use check must let the same process announce its buffer again, with a queue of its own.
        var prefix = _fixture.NewPrefix("shared");
        await using (var client = _fixture.StartPeer("announce-shared", "announce", _fixture.ListenerPath, "--prefix", prefix, "--kind", "shared-buffer"))
        {
            var result = await client.WaitForLineAsync("RESULT ", CrossProcessFixture.Timeout);
            Assert.Equal("RESULT accepted", result);
            Assert.Equal(3, CrossProcessFixture.ShmFiles(prefix).Length); // one buffer, two queues
        }

        await Messages.EventuallyAsync(() => CrossProcessFixture.ShmFiles(prefix).Length == 0, CrossProcessFixture.Timeout, "the shared files to be removed");
    }

    [Fact]
    public async Task FileMode_FilesOwnedByAnotherUser_AreRefusedAndLeftAlone()
    {
        var prefix = _fixture.NewPrefix("foreign");
        try
        {
            await using var client = _fixture.StartPeer("announce-foreign", "announce", _fixture.ListenerPath, "--prefix", prefix, "--owner", OtherUser.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var result = await client.WaitForLineAsync("RESULT ", CrossProcessFixture.Timeout);
            Assert.StartsWith("RESULT refused", result, StringComparison.Ordinal);
            var failure = await WaitForHandshakeFailureAsync(_fixture.Listener, prefix);
            Assert.Equal(ShmipcErrorCode.PeerNotAuthorized, failure.ErrorCode);
            Assert.Contains($"belongs to uid {OtherUser.Id}", failure.Message, StringComparison.Ordinal);

            // Refused files are not the client's to have removed: the server leaves them alone.
            Assert.Equal(2, CrossProcessFixture.ShmFiles(prefix).Length);
        }
        finally
        {
            foreach (var file in CrossProcessFixture.ShmFiles(prefix))
            {
                File.Delete(file);
            }
        }
    }

    [Fact]
    public async Task FileMode_HandshakeFailingAfterTheServerOpenedTheFiles_LeavesNothingInDevShm()
    {
        var prefix = _fixture.NewPrefix("failed");
        try
        {
            // The client fills its buffer region with garbage and then dies without removing its files (--keep).
            await using (var client = _fixture.StartPeer("announce-bad", "announce", _fixture.ListenerPath, "--prefix", prefix, "--kind", "bad-buffer", "--keep"))
            {
                var result = await client.WaitForLineAsync("RESULT ", CrossProcessFixture.Timeout);
                Assert.StartsWith("RESULT refused", result, StringComparison.Ordinal);
                var failure = await WaitForHandshakeFailureAsync(_fixture.Listener, prefix);
                Assert.Equal(ShmipcErrorCode.HandshakeFailed, failure.ErrorCode);
                Assert.Contains("not a valid shmipc layout", failure.Message, StringComparison.Ordinal);
            }

            Assert.Empty(CrossProcessFixture.ShmFiles(prefix));
        }
        finally
        {
            foreach (var file in CrossProcessFixture.ShmFiles(prefix))
            {
                File.Delete(file);
            }
        }
    }

    [Fact]
    public async Task Client_ServerOfAnotherUser_IsRefusedBeforeAnythingIsSent_UnlessAllowed()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);

        // Same user: accepted (the fixture's listener runs as this process).
        await _fixture.GetPeerClientAsync(MemoryMapType.MemFd);
        if (!OtherUser.CanSwitch)
        {
            _output.WriteLine($"SKIPPED other-user part: {OtherUser.WhyNot}");
            return;
        }

        var directory = Directory.CreateTempSubdirectory("shmipc-other-").FullName;
        try
        {
            OtherUser.Chown(OtherUser.Id, directory);
            var socketPath = Path.Combine(directory, "s.sock");
            await using var server = _fixture.StartPeerAs(OtherUser.Id, "serve-as-nobody", "serve", socketPath);
            await server.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);

            var from = server.LineCount;
            var error = await Assert.ThrowsAsync<ShmipcException>(() => ShmipcClient.ConnectAsync(socketPath, new ShmipcClientOptions(), cts.Token));
            Assert.Equal(ShmipcErrorCode.PeerNotAuthorized, error.ErrorCode);
            Assert.Contains($"uid {OtherUser.Id}", error.Message, StringComparison.Ordinal);

            // The impostor saw a connection that closed before its first byte: no handshake, no fds.
            var seen = await server.WaitForLineAsync("HANDSHAKE-FAIL ", CrossProcessFixture.Timeout, from);
            Assert.Contains("receive first frame", seen, StringComparison.Ordinal);
            Assert.Contains("after 0 of", seen, StringComparison.Ordinal);

            // Trusted explicitly: it connects and carries messages.
            var options = new ShmipcClientOptions { AllowedServerUserIds = [OtherUser.Id], BufferCapacity = 4L * 1024 * 1024, PathPrefix = _fixture.NewPrefix("trusting") };
            var session = await _fixture.ConnectAsync(socketPath, options, cts.Token);
            await using var stream = session.OpenStream();
            await Messages.RoundTripAsync(stream, 500, 7, cts.Token);
            await session.DisposeAsync();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Server_ClientOfAnotherUser_IsRefused_UnlessAllowed()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        if (!OtherUser.CanSwitch)
        {
            // The same-user half is every other cross-process test (the fixture's listener accepts this user's peers).
            _output.WriteLine($"SKIPPED other-user part: {OtherUser.WhyNot}");
            return;
        }

        using var socket = new TempSocketPath();
        File.SetUnixFileMode(socket.Directory, (UnixFileMode)0x1ED); // 0755: nobody may reach the socket
        var open = new ShmipcServerOptions { SocketFileMode = (UnixFileMode)0x1B6, HandshakeTimeout = TimeSpan.FromSeconds(5) }; // 0666

        await using (var listener = ShmipcListener.Bind(socket.Path, open))
        {
            await using var client = _fixture.StartPeerAs(OtherUser.Id, "connect-as-nobody", "connect", socket.Path, "--memfd");
            var failure = await listener.HandshakeFailures.ReadAsync(cts.Token);
            Assert.Equal(ShmipcErrorCode.PeerNotAuthorized, failure.ErrorCode);
            Assert.Contains($"client running as uid {OtherUser.Id}", failure.Message, StringComparison.Ordinal);
            Assert.NotEqual(0, await client.WaitForExitAsync(CrossProcessFixture.Timeout));
        }

        open = new ShmipcServerOptions { SocketFileMode = (UnixFileMode)0x1B6, HandshakeTimeout = TimeSpan.FromSeconds(5), AllowedClientUserIds = [OtherUser.Id] };
        await using (var listener = ShmipcListener.Bind(socket.Path, open))
        {
            await using var client = _fixture.StartPeerAs(OtherUser.Id, "connect-as-nobody-allowed", "connect", socket.Path, "--memfd");
            await client.WaitForLineAsync("READY ", CrossProcessFixture.Timeout);
            var session = await listener.AcceptAsync(cts.Token);
            var reply = await client.CommandAsync("open 1", $"OPENED {session.Name} ", CrossProcessFixture.Timeout);
            var stream = await session.AcceptStreamAsync(cts.Token);
            using (var hello = await stream.Input.ReadAsync(cts.Token))
            {
                Assert.Equal($"hello {stream.Id}", Encoding.ASCII.GetString(hello.Data));
            }

            await Messages.RoundTripAsync(stream, 500, 9, cts.Token);
            _output.WriteLine(reply);
        }
    }

    public void Dispose() => _fixture.Detach();

    /// <summary>The listener's next handshake failure whose message names <paramref name="fragment"/> (others are skipped).</summary>
    private static async Task<ShmipcException> WaitForHandshakeFailureAsync(ShmipcListener listener, string fragment)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        while (true)
        {
            var failure = await listener.HandshakeFailures.ReadAsync(cts.Token);
            if (failure.Message.Contains(fragment, StringComparison.Ordinal))
            {
                return failure;
            }
        }
    }
}
