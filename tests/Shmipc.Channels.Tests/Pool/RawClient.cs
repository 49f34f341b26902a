using System.Buffers.Binary;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Sessions;
using Shmipc.Channels.Tests.TestSupport;

namespace Shmipc.Channels.Tests.Pool;

/// <summary>A client connection without a session engine (the library's own connection step): the test reads and writes frames.</summary>
internal sealed class RawClient : IDisposable
{
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(10);
    private readonly ClientConnection _connection;

    private RawClient(ClientConnection connection) => _connection = connection;

    public byte Version => _connection.Version;

    public static RawClient Connect(string path)
    {
        var options = TestClientOptions.Small(IoTimeout);
        options.Validate();
        return new RawClient(ClientConnector.Connect(t => SocketFd.ConnectUnix(path, t), options, epoch: null, seal: true, CancellationToken.None));
    }

    /// <summary>Reads frames until one of <paramref name="type"/> arrives (skipping wake-ups) and returns its 16 bytes.</summary>
    public byte[] ReadFrame(EventType type)
    {
        while (true)
        {
            var header = new byte[ProtocolConstants.HeaderSize];
            _connection.Socket.ReceiveExactly(header, IoTimeout);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header);
            var frame = new byte[length];
            header.CopyTo(frame, 0);
            _connection.Socket.ReceiveExactly(frame.AsSpan(ProtocolConstants.HeaderSize), IoTimeout);
            if ((EventType)header[7] == type)
            {
                return frame;
            }
        }
    }

    public void SendAck(ulong epoch)
    {
        var frame = new byte[ProtocolConstants.HotRestartFrameLength];
        HotRestartFrame.Write(frame, Version, EventType.HotRestartAck, epoch);
        _connection.Socket.SendAll(frame, IoTimeout);
    }

    public void Dispose() => _connection.Dispose();
}
