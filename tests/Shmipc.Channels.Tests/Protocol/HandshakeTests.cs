using Shmipc.Channels.Protocol;
using Xunit;
using static Shmipc.Channels.Tests.Protocol.ProtocolAssert;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>.NET client against .NET server over the in-memory pair, plus the state machine's edge cases.</summary>
public class HandshakeTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    public static TheoryData<int> Modes() => new() { (int)HandshakeMode.FilePathV2, (int)HandshakeMode.FilePathV3, (int)HandshakeMode.MemFdV3 };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task DotNetClient_AndDotNetServer_AgreeInEveryMode(int modeCode)
    {
        var mode = (HandshakeMode)modeCode;
        (InMemoryHandshakeTransport clientEnd, InMemoryHandshakeTransport serverEnd) = InMemoryHandshakeTransport.CreatePair();
        ClientHandshakeRequest request = mode switch
        {
            HandshakeMode.FilePathV2 => ClientHandshakeRequest.FilePathV2("/dev/shm/q", "/dev/shm/b"),
            HandshakeMode.FilePathV3 => ClientHandshakeRequest.FilePathV3("/dev/shm/q", "/dev/shm/b"),
            _ => ClientHandshakeRequest.MemFdV3("/dev/shm/q", "/dev/shm/b", bufferFd: 40, queueFd: 41),
        };
        var closed = new List<int>();

        // A dedicated thread: both ends block, and pool threads may all be busy with other blocking tests.
        Task<ServerAnnouncement> server = Task.Factory.StartNew(
            () =>
            {
                ServerAnnouncement a = HandshakeServer.ReceiveAnnouncement(serverEnd, s_timeout, closed.Add);
                HandshakeServer.Acknowledge(serverEnd, a);
                return a;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        int clientVersion = HandshakeClient.Run(clientEnd, request, s_timeout);
        ServerAnnouncement announcement = await server.WaitAsync(s_timeout);

        int expectedVersion = mode == HandshakeMode.FilePathV2 ? 2 : 3;
        Assert.Equal(expectedVersion, clientVersion);
        Assert.Equal(expectedVersion, announcement.Version);
        Assert.Equal(mode, announcement.Mode);
        Assert.Equal("/dev/shm/q", announcement.QueuePath);
        Assert.Equal("/dev/shm/b", announcement.BufferPath);
        Assert.Equal(mode == HandshakeMode.MemFdV3 ? 40 : -1, announcement.BufferFd);
        Assert.Equal(mode == HandshakeMode.MemFdV3 ? 41 : -1, announcement.QueueFd);

        announcement.CloseFds();
        announcement.CloseFds();
        Assert.Equal(mode == HandshakeMode.MemFdV3 ? [40, 41] : [], closed);
    }

    [Fact]
    public void ClientFilePathV3_SendsVersionExchangeThenTypeZeroWithVersion3()
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("00000008 7758 03 04 00000008 7758 03 06"), s_timeout);

        Assert.Equal(3, HandshakeClient.Run(client, ClientHandshakeRequest.FilePathV3("/q", "/b"), s_timeout));
        Assert.Equal(Hex("00000008 7758 03 04 00000010 7758 03 00 0002 2f71 0002 2f62"), client.SentBytes());
    }

    [Fact]
    public void ClientMemfd_WhenTheServerAnswersVersion2_FailsInsteadOfSendingNamesAsPaths()
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("00000008 7758 02 04"), s_timeout);

        Throws(ShmipcErrorCode.HandshakeFailed,
            () => HandshakeClient.Run(client, ClientHandshakeRequest.MemFdV3("/q", "/b", 3, 4), s_timeout),
            "memfd sharing needs version 3");
        Assert.Equal(Hex("00000008 7758 03 04"), client.SentBytes());
    }

    [Fact]
    public void ClientFilePathV3_WhenTheServerAnswersVersion2_FallsBackToV2LikeGo()
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("00000008 7758 02 04"), s_timeout);

        Assert.Equal(2, HandshakeClient.Run(client, ClientHandshakeRequest.FilePathV3("/q", "/b"), s_timeout));
        Assert.Equal(Hex("00000008 7758 03 04 00000010 7758 02 00 0002 2f71 0002 2f62"), client.SentBytes());
    }

    [Fact]
    public void Client_NegotiatesMinOf3AndTheServerVersion()
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("00000008 7758 09 04 00000008 7758 03 07 00000008 7758 03 06"), s_timeout);

        Assert.Equal(3, HandshakeClient.Run(client, ClientHandshakeRequest.MemFdV3("/q", "/b", 3, 4), s_timeout));
        Assert.Equal(3, client.SentBytes()[14]); // version byte of the type-5 frame
    }

    [Fact]
    public void Client_SkipsABoundedBodyOnTheVersionReply()
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("0000000C 7758 03 04 7b7d0a00 00000008 7758 03 06"), s_timeout);
        Assert.Equal(3, HandshakeClient.Run(client, ClientHandshakeRequest.FilePathV3("/q", "/b"), s_timeout));
    }

    [Theory]
    [InlineData("00000008 7758 03 03", "receive ExchangeProtoVersion", "expected ExchangeProtoVersion (type 4) from the server, got type 3")]
    [InlineData("00000008 7758 03 04 00000008 7758 03 06", "receive AckReadyRecvFD", "expected AckReadyRecvFD (type 7) from the server, got type 6")]
    [InlineData("00000008 7758 03 04 00000008 7758 03 07 00000010 7758 03 08 0000000000000001", "receive AckShareMemory", "expected AckShareMemory (type 6) from the server, got type 8")]
    [InlineData("00000008 7759 03 04", "receive ExchangeProtoVersion", "magic 0x7759")]
    [InlineData("00000008 7758 03 0b", "receive ExchangeProtoVersion", "type 11")]
    [InlineData("80000000 7758 03 04", "receive ExchangeProtoVersion", "length 2147483648")]
    [InlineData("00000004 7758 03 04", "receive ExchangeProtoVersion", "length 4")]
    public void ClientMemfd_WrongServerFrame_IsHandshakeFailed(string s2c, string step, string message)
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex(s2c), s_timeout);

        ShmipcException e = Throws(ShmipcErrorCode.HandshakeFailed,
            () => HandshakeClient.Run(client, ClientHandshakeRequest.MemFdV3("/q", "/b", 3, 4), s_timeout), message);
        Assert.Contains(step, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Client_VersionZeroReply_IsProtocolVersion()
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("00000008 7758 00 04"), s_timeout);
        Throws(ShmipcErrorCode.ProtocolVersion, () => HandshakeClient.Run(client, ClientHandshakeRequest.FilePathV3("/q", "/b"), s_timeout), "version 0");
    }

    [Fact]
    public void Client_ServerClosesInsteadOfAcking_IsHandshakeFailedNamingTheStep()
    {
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("00000008 7758 03 04 00000008 7758 03 07"), s_timeout);
        server.CloseOutput();

        ShmipcException e = Throws(ShmipcErrorCode.HandshakeFailed,
            () => HandshakeClient.Run(client, ClientHandshakeRequest.MemFdV3("/q", "/b", 3, 4), s_timeout), "receive AckShareMemory");
        Assert.Equal(ShmipcErrorCode.PeerClosed, Assert.IsType<ShmipcException>(e.InnerException).ErrorCode);
    }

    [Fact]
    public void Client_ServerNeverAnswers_TimesOutWithinTheDeadline()
    {
        (InMemoryHandshakeTransport client, _) = InMemoryHandshakeTransport.CreatePair();
        var timeout = TimeSpan.FromMilliseconds(200);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Throws(ShmipcErrorCode.Timeout,
            () => HandshakeClient.Run(client, ClientHandshakeRequest.MemFdV3("/q", "/b", 3, 4), timeout),
            "handshake step 'receive ExchangeProtoVersion' timed out");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(150), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Client_TheDeadlineCoversAllSteps()
    {
        // The server answers the version exchange, then goes silent: the remaining time, not a fresh timeout, applies.
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(Hex("00000008 7758 03 04"), s_timeout);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Throws(ShmipcErrorCode.Timeout,
            () => HandshakeClient.Run(client, ClientHandshakeRequest.MemFdV3("/q", "/b", 3, 4), TimeSpan.FromMilliseconds(200)),
            "receive AckReadyRecvFD");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Client_RejectsBadRequestsBeforeAnyIo()
    {
        (InMemoryHandshakeTransport client, _) = InMemoryHandshakeTransport.CreatePair();
        Assert.ThrowsAny<ArgumentException>(() => ClientHandshakeRequest.FilePathV2("", "/b"));
        Assert.ThrowsAny<ArgumentException>(() => ClientHandshakeRequest.MemFdV3("/q", "/b", -1, 4));
        Assert.ThrowsAny<ArgumentException>(() => HandshakeClient.Run(client, ClientHandshakeRequest.FilePathV2("/q\0", "/b"), s_timeout));
        Assert.ThrowsAny<ArgumentException>(() => HandshakeClient.Run(client, ClientHandshakeRequest.FilePathV2("/q", "/b"), TimeSpan.Zero));
        Assert.Empty(client.Sent);
    }

    [Fact]
    public void Client_TransportIOException_IsWrappedAsHandshakeFailed()
    {
        var e = Throws(ShmipcErrorCode.HandshakeFailed,
            () => HandshakeClient.Run(new FailingTransport(), ClientHandshakeRequest.FilePathV2("/q", "/b"), s_timeout),
            "handshake step 'send ShareMemoryByFilePath' failed: broken pipe");
        Assert.IsType<IOException>(e.InnerException);
    }

    [Fact]
    public void Acknowledge_AfterTheDeadline_TimesOut()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex("00000008 7758 03 04 00000010 7758 03 00 0002 2f71 0002 2f62"), s_timeout);
        // The deadline is the thing under test: let it pass (generous margins for a busy CI machine).
        ServerAnnouncement a = HandshakeServer.ReceiveAnnouncement(server, TimeSpan.FromMilliseconds(500), _ => { });
        Thread.Sleep(600);
        Assert.True(a.RemainingTime <= TimeSpan.Zero);
        Throws(ShmipcErrorCode.Timeout, () => HandshakeServer.Acknowledge(server, a), "send AckShareMemory");
    }

    [Fact]
    public void TakeFds_TransfersOwnershipOnce()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex("00000008 7758 03 04 00000010 7758 03 05 0002 2f71 0002 2f62"), s_timeout);
        client.SendWithFds([0], [5, 6], s_timeout);
        var closed = new List<int>();
        ServerAnnouncement a = HandshakeServer.ReceiveAnnouncement(server, s_timeout, closed.Add);

        Assert.Equal((5, 6), a.TakeFds());
        Assert.Throws<InvalidOperationException>(() => a.TakeFds());
        a.CloseFds();
        Assert.Empty(closed);
    }

    private sealed class FailingTransport : IHandshakeTransport
    {
        public void SendAll(ReadOnlySpan<byte> data, TimeSpan timeout) => throw new IOException("broken pipe");

        public void ReceiveExactly(Span<byte> buffer, TimeSpan timeout) => throw new IOException("broken pipe");

        public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout) => throw new IOException("broken pipe");

        public int ReceiveWithFds(Span<byte> data, Span<int> receivedFds, out int controlLength, out int fdCount, TimeSpan timeout) =>
            throw new IOException("broken pipe");
    }
}
