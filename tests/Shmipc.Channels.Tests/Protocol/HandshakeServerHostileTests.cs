using System.Diagnostics;
using Shmipc.Channels.Protocol;
using Xunit;
using static Shmipc.Channels.Tests.Protocol.ProtocolAssert;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>A hostile or broken client against the .NET server: every case fails fast with a precise error and leaks no fd.</summary>
public class HandshakeServerHostileTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);
    private static readonly byte[] s_v3MemfdPrefix = Hex("00000008 7758 03 04 00000010 7758 03 05 0002 2f71 0002 2f62");

    [Theory]
    [InlineData("00000045 7759 02 00", ShmipcErrorCode.HandshakeFailed, "magic 0x7759")]
    [InlineData("00000045 7758 00 00", ShmipcErrorCode.ProtocolVersion, "version 0")]
    [InlineData("00000008 7758 04 04", ShmipcErrorCode.ProtocolVersion, "protocol version 4")]
    [InlineData("00000008 7758 01 04", ShmipcErrorCode.ProtocolVersion, "protocol version 1")]
    [InlineData("00000008 7758 02 04", ShmipcErrorCode.HandshakeFailed, "must start with ShareMemoryByFilePath (type 0), got type 4")]
    [InlineData("00000008 7758 02 01", ShmipcErrorCode.HandshakeFailed, "must start with ShareMemoryByFilePath (type 0), got type 1")]
    [InlineData("00000045 7758 03 00", ShmipcErrorCode.HandshakeFailed, "must start with ExchangeProtoVersion (type 4), got type 0")]
    [InlineData("00000045 7758 03 05", ShmipcErrorCode.HandshakeFailed, "must start with ExchangeProtoVersion (type 4), got type 5")]
    [InlineData("00000008 7758 03 0c", ShmipcErrorCode.HandshakeFailed, "type 12")]
    [InlineData("0000000B 7758 02 00", ShmipcErrorCode.HandshakeFailed, "length 11")]
    [InlineData("00000004 7758 02 00", ShmipcErrorCode.HandshakeFailed, "length 4")]
    [InlineData("80000000 7758 02 00", ShmipcErrorCode.HandshakeFailed, "length 2147483648")]
    [InlineData("0000200D 7758 02 00", ShmipcErrorCode.HandshakeFailed, "length 8205")]
    [InlineData("80000000 7758 03 04", ShmipcErrorCode.HandshakeFailed, "length 2147483648")]
    [InlineData("00000004 7758 03 04", ShmipcErrorCode.HandshakeFailed, "length 4")]
    public void BadFirstHeader_FailsFromTheHeaderAlone(string header, ShmipcErrorCode code, string message)
    {
        // Only the 8 header bytes exist and the connection stays open: reading a body would hit the timeout instead.
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex(header), s_timeout);
        var watch = Stopwatch.StartNew();

        Throws(code, () => HandshakeServer.ReceiveAnnouncement(server, s_timeout, _ => { }), message);
        Assert.Equal(1, server.ReceiveCalls);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Empty(server.Sent);
    }

    [Theory]
    [InlineData("00000010 7758 02 00 0007 2f71 0002 2f62", "queue path length 7 at body offset 0 runs past the 8-byte body")]
    [InlineData("00000010 7758 02 00 0002 2f71 0003 2f62", "buffer path length 3 at body offset 4 runs past the 8-byte body")]
    [InlineData("00000010 7758 02 00 ffff 2f71 0002 2f62", "queue path length 65535")]
    [InlineData("00000011 7758 02 00 0002 2f71 0002 2f62 00", "the body has 9 bytes")]
    [InlineData("0000000D 7758 02 00 0002 2f71 00", "buffer path length field at body offset 4 is beyond the 5-byte body")]
    [InlineData("00000010 7758 02 00 0002 2f00 0002 2f62", "NUL")]
    [InlineData("0000000C 7758 02 00 0000 0000", "empty")]
    [InlineData("00000010 7758 02 00 0002 ffff 0002 2f62", "UTF-8")]
    public void V2_BadAnnouncementBody_IsHandshakeFailed(string frame, string message)
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex(frame), s_timeout);

        ShmipcException e = Throws(ShmipcErrorCode.HandshakeFailed, () => HandshakeServer.ReceiveAnnouncement(server, s_timeout, _ => { }), message);
        Assert.Contains("receive ShareMemoryByFilePath", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00000008 7758 03 02", "got type 2")]
    [InlineData("00000008 7758 03 04", "got type 4")]
    [InlineData("0000000B 7758 03 05", "length 11")]
    [InlineData("80000000 7758 03 05", "length 2147483648")]
    [InlineData("00000008 7759 03 05", "magic 0x7759")]
    public void V3_BadSecondFrame_IsHandshakeFailed(string frame, string message)
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex("00000008 7758 03 04"), s_timeout);
        client.SendAll(Hex(frame), s_timeout);

        Throws(ShmipcErrorCode.HandshakeFailed, () => HandshakeServer.ReceiveAnnouncement(server, s_timeout, _ => { }), message);
        Assert.Equal(Hex("00000008 7758 03 04"), server.SentBytes()); // only the version answer went out
    }

    [Fact]
    public void V3_ExchangeProtoVersionWithBody_IsSkipped_ButTheReplyIsExactly8Bytes()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex("0000000E 7758 03 04 7b2266656122"), s_timeout); // header says 14: 6 body bytes
        client.SendAll(Hex("00000010 7758 03 00 0002 2f71 0002 2f62"), s_timeout);

        ServerAnnouncement a = HandshakeServer.ReceiveAnnouncement(server, s_timeout, _ => { });
        Assert.Equal(HandshakeMode.FilePathV3, a.Mode);
        Assert.Equal(Hex("00000008 7758 03 04"), server.SentBytes());
    }

    [Theory]
    [InlineData(new[] { 7, 8 }, 16, "control length 16")]
    [InlineData(new[] { 7, 8 }, 32, "control length 32")]
    [InlineData(new[] { 7, 8 }, 0, "control length 0")]
    [InlineData(new[] { 7 }, 24, "received 1 fd(s)")]
    [InlineData(new int[0], 0, "control length 0")]
    [InlineData(new int[0], 24, "received 0 fd(s)")]
    public void Memfd_BadScmRights_IsHandshakeFailed_AndClosesWhatArrived(int[] fds, int controlLength, string message)
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(s_v3MemfdPrefix, s_timeout);
        client.SendWithFdsRaw([0], fds, controlLength);
        var closed = new List<int>();

        Throws(ShmipcErrorCode.HandshakeFailed, () => HandshakeServer.ReceiveAnnouncement(server, s_timeout, closed.Add), message);
        Assert.Equal(fds, closed);
    }

    [Fact]
    public void Memfd_NoFdsAtAll_IsHandshakeFailed()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(s_v3MemfdPrefix, s_timeout);
        client.SendAll([0], s_timeout); // the dummy byte without SCM_RIGHTS

        Throws(ShmipcErrorCode.HandshakeFailed, () => HandshakeServer.ReceiveAnnouncement(server, s_timeout, _ => { }), "control length 0");
    }

    [Fact]
    public void Memfd_ThreeFds_AreAcceptedLikeGo_TheKernelDropsTheThird()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(s_v3MemfdPrefix, s_timeout);
        client.SendWithFds([0], [7, 8, 9], s_timeout);
        var closed = new List<int>();

        ServerAnnouncement a = HandshakeServer.ReceiveAnnouncement(server, s_timeout, closed.Add);
        Assert.Equal((7, 8), (a.BufferFd, a.QueueFd));
        Assert.Equal([9], server.KernelDroppedFds); // a 24-byte control buffer (2 slots) was offered, as in Go
        Assert.Empty(closed);
    }

    [Fact]
    public void Memfd_ClientClosesInsteadOfSendingFds_IsHandshakeFailed()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(s_v3MemfdPrefix, s_timeout);
        client.CloseOutput();

        Throws(ShmipcErrorCode.HandshakeFailed, () => HandshakeServer.ReceiveAnnouncement(server, s_timeout, _ => { }), "closed the connection instead of sending the fds");
        Assert.Equal(Hex("00000008 7758 03 04 00000008 7758 03 07"), server.SentBytes());
    }

    [Theory]
    [InlineData("00000045 7758 02")]
    [InlineData("00000045 7758 02 00 001d 2f64 6576")]
    [InlineData("00000008 7758 03 04 0000000E 7758")]
    [InlineData("")]
    public void EofMidFrame_IsHandshakeFailed_WithThePeerClosedCause(string partial)
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex(partial), s_timeout);
        client.CloseOutput();

        ShmipcException e = Throws(ShmipcErrorCode.HandshakeFailed, () => HandshakeServer.ReceiveAnnouncement(server, s_timeout, _ => { }), "handshake step");
        Assert.Equal(ShmipcErrorCode.PeerClosed, Assert.IsType<ShmipcException>(e.InnerException).ErrorCode);
    }

    [Theory]
    [InlineData("", "receive first frame")]
    [InlineData("00000045 7758 02 00 001d", "receive ShareMemoryByFilePath")]
    [InlineData("00000008 7758 03 04", "receive share-memory announcement")]
    [InlineData("00000008 7758 03 04 00000010 7758 03 05 0002 2f71 0002 2f62", "receive fds (SCM_RIGHTS)")]
    public void SilentClient_TimesOutWithinTheDeadline_NamingTheStep(string sent, string step)
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex(sent), s_timeout);
        var watch = Stopwatch.StartNew();

        Throws(ShmipcErrorCode.Timeout, () => HandshakeServer.ReceiveAnnouncement(server, TimeSpan.FromMilliseconds(150), _ => { }),
            $"handshake step '{step}' timed out after");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }
}
