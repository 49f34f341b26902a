using Shmipc.Channels.Protocol;
using Xunit;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>
/// The .NET handshake against the Go captures: the client writes the Go client's bytes, the server accepts the
/// Go client's bytes and answers with the Go server's bytes, and the client completes on the Go server's replies.
/// </summary>
public class HandshakeVectorTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("v2_file")]
    [InlineData("v2_file_hotrestart_epoch")]
    public void ClientV2_WritesTheGoClientBytes(string name)
    {
        (string queue, string buffer) = ProtocolVectors.HandshakePaths(name);
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();

        int version = HandshakeClient.Run(client, ClientHandshakeRequest.FilePathV2(queue, buffer), s_timeout);

        Assert.Equal(2, version);
        Assert.Equal(ProtocolVectors.Read("handshake", name + ".c2s.bin"), client.SentBytes());
        Assert.All(client.Sent, s => Assert.Null(s.Fds));
        Assert.Equal(0, client.ReceiveCalls); // v2 has no reply to wait for
        Assert.Empty(ProtocolVectors.Read("handshake", name + ".s2c.bin"));
        Assert.Empty(server.Sent);
    }

    [Theory]
    [InlineData("v3_memfd")]
    [InlineData("v3_memfd_hotrestart_epoch")]
    public void ClientV3Memfd_OnTheGoServerReplies_WritesTheGoClientBytes(string name)
    {
        (string queue, string buffer) = ProtocolVectors.HandshakePaths(name);
        byte[] c2s = ProtocolVectors.Read("handshake", name + ".c2s.bin");
        (InMemoryHandshakeTransport client, InMemoryHandshakeTransport server) = InMemoryHandshakeTransport.CreatePair();
        server.SendAll(ProtocolVectors.Read("handshake", name + ".s2c.bin"), s_timeout);

        int version = HandshakeClient.Run(client, ClientHandshakeRequest.MemFdV3(queue, buffer, bufferFd: 9, queueFd: 10), s_timeout);

        Assert.Equal(3, version);
        // Frames up to the dummy byte, as plain sends ...
        InMemoryHandshakeTransport.SentItem[] plain = client.Sent.Take(client.Sent.Count - 1).ToArray();
        Assert.All(plain, s => Assert.Null(s.Fds));
        Assert.Equal(c2s.AsSpan(0, c2s.Length - 1).ToArray(), plain.SelectMany(s => s.Data).ToArray());
        // ... then one sendmsg of the single 0x00 byte with [buffer fd, queue fd].
        InMemoryHandshakeTransport.SentItem withFds = client.Sent[^1];
        Assert.Equal(new byte[] { 0x00 }, withFds.Data);
        Assert.Equal(new[] { 9, 10 }, withFds.Fds);
        Assert.Equal(c2s, client.SentBytes());
    }

    [Theory]
    [InlineData("v2_file")]
    [InlineData("v2_file_hotrestart_epoch")]
    public void ServerV2_AcceptsTheGoClientBytes_AndSendsNothing(string name)
    {
        (string queue, string buffer) = ProtocolVectors.HandshakePaths(name);
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(ProtocolVectors.Read("handshake", name + ".c2s.bin"), s_timeout);
        var closed = new List<int>();

        ServerAnnouncement a = HandshakeServer.ReceiveAnnouncement(server, s_timeout, closed.Add);
        HandshakeServer.Acknowledge(server, a);

        Assert.Equal(2, a.Version);
        Assert.Equal(HandshakeMode.FilePathV2, a.Mode);
        Assert.Equal(queue, a.QueuePath);
        Assert.Equal(buffer, a.BufferPath);
        Assert.Equal(-1, a.BufferFd);
        Assert.Equal(-1, a.QueueFd);
        Assert.Equal(ProtocolVectors.Read("handshake", name + ".s2c.bin"), server.SentBytes());
        a.CloseFds();
        Assert.Empty(closed);
    }

    [Theory]
    [InlineData("v3_memfd")]
    [InlineData("v3_memfd_hotrestart_epoch")]
    public void ServerV3Memfd_AcceptsTheGoClientBytes_AndRepliesWithTheGoServerBytes(string name)
    {
        (string queue, string buffer) = ProtocolVectors.HandshakePaths(name);
        byte[] c2s = ProtocolVectors.Read("handshake", name + ".c2s.bin");
        (InMemoryHandshakeTransport server, InMemoryHandshakeTransport client) = InMemoryHandshakeTransport.CreatePair();
        client.SendAll(c2s.AsSpan(0, c2s.Length - 1), s_timeout);
        client.SendWithFds(c2s.AsSpan(c2s.Length - 1), [91, 92], s_timeout);
        var closed = new List<int>();

        ServerAnnouncement a = HandshakeServer.ReceiveAnnouncement(server, s_timeout, closed.Add);
        Assert.Equal(3, a.Version);
        Assert.Equal(HandshakeMode.MemFdV3, a.Mode);
        Assert.Equal(queue, a.QueuePath);
        Assert.Equal(buffer, a.BufferPath);
        Assert.Equal(91, a.BufferFd);
        Assert.Equal(92, a.QueueFd);

        // AckShareMemory only after the caller has "mapped".
        byte[] s2c = ProtocolVectors.Read("handshake", name + ".s2c.bin");
        Assert.Equal(s2c.AsSpan(0, 16).ToArray(), server.SentBytes());
        Assert.Equal((91, 92), a.TakeFds());
        HandshakeServer.Acknowledge(server, a);
        Assert.Equal(s2c, server.SentBytes());

        a.CloseFds();
        Assert.Empty(closed); // taken fds belong to the caller
    }

    [Theory]
    [InlineData("v2_file")]
    [InlineData("v3_memfd")]
    public void GoStreams_StartWithTheHandshakeVectors(string name)
    {
        string stream = name == "v2_file" ? "A_file_v2_default" : "C_memfd_v3_small";
        byte[] c2s = ProtocolVectors.Read("handshake", name + ".c2s.bin");
        byte[] s2c = ProtocolVectors.Read("handshake", name + ".s2c.bin");
        Assert.Equal(c2s, ProtocolVectors.Read("streams", stream + ".conn0.c2s.bin").AsSpan(0, c2s.Length).ToArray());
        Assert.Equal(s2c, ProtocolVectors.Read("streams", stream + ".conn0.s2c.bin").AsSpan(0, s2c.Length).ToArray());
    }
}
