using Shmipc.Channels.Protocol;
using Xunit;
using static Shmipc.Channels.Tests.Protocol.ProtocolAssert;

namespace Shmipc.Channels.Tests.Protocol;

public class HandshakeServerRunTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);
    private static readonly byte[] s_v3Memfd = Hex("00000008 7758 03 04 00000010 7758 03 05 0002 2f71 0002 2f62");

    [Fact]
    public void Run_MapsThenAcknowledges()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(s_v3Memfd, s_timeout);
        client.SendWithFds([0], [5, 6], s_timeout);
        var closed = new List<int>();

        Mapping m = HandshakeServer.Run(server, s_timeout, closed.Add, a =>
        {
            Assert.Equal(Hex("00000008 7758 03 04 00000008 7758 03 07"), server.SentBytes()); // no ack before mapping
            (int bufferFd, int queueFd) = a.TakeFds();
            return new Mapping(bufferFd, queueFd);
        });

        Assert.Equal((5, 6), (m.BufferFd, m.QueueFd));
        Assert.Equal(Hex("00000008 7758 03 04 00000008 7758 03 07 00000008 7758 03 06"), server.SentBytes());
        Assert.Empty(closed);
        Assert.False(m.Disposed);
    }

    [Fact]
    public void Run_MapFailure_ClosesTheFds_AndSendsNoAck()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(s_v3Memfd, s_timeout);
        client.SendWithFds([0], [5, 6], s_timeout);
        var closed = new List<int>();

        Assert.Throws<InvalidDataException>(() => HandshakeServer.Run<Mapping>(server, s_timeout, closed.Add, _ => throw new InvalidDataException("bad layout")));
        Assert.Equal([5, 6], closed);
        Assert.Equal(Hex("00000008 7758 03 04 00000008 7758 03 07"), server.SentBytes());
    }

    [Fact]
    public void Run_AckFailure_DisposesTheMapping()
    {
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(Hex("00000008 7758 03 04 00000010 7758 03 00 0002 2f71 0002 2f62"), s_timeout);
        Mapping? mapping = null;

        Throws(ShmipcErrorCode.Timeout, () => HandshakeServer.Run(server, TimeSpan.FromMilliseconds(50), _ => { }, a =>
        {
            Thread.Sleep(100); // mapping ate the rest of the deadline
            return mapping = new Mapping(-1, -1);
        }), "send AckShareMemory");
        Assert.True(mapping!.Disposed);
    }

    private sealed class Mapping(int bufferFd, int queueFd) : IDisposable
    {
        public int BufferFd { get; } = bufferFd;

        public int QueueFd { get; } = queueFd;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
