using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// A client session built by hand from the internal layers, exactly as <c>Sessions/ClientSessionFactory</c> does
/// (connect, create the memfd buffer region and queue, v3 memfd handshake), but without a session engine on top:
/// the hostile verbs then write whatever they like to the socket and the queue.
/// </summary>
internal sealed unsafe class RawClientSession : IDisposable
{
    private const uint QueueCapacity = 1024;
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(5);

    private RawClientSession(string name, SocketFd socket, SharedRegion bufferRegion, BufferManager manager, SharedRegion queueRegion, IoQueuePair queues, byte version)
    {
        Name = name;
        Socket = socket;
        BufferRegion = bufferRegion;
        Manager = manager;
        QueueRegion = queueRegion;
        Queues = queues;
        Version = version;
    }

    /// <summary>The queue name announced in the handshake: the server session's name.</summary>
    public string Name { get; }

    public SocketFd Socket { get; }

    public SharedRegion BufferRegion { get; }

    public BufferManager Manager { get; }

    public SharedRegion QueueRegion { get; }

    public IoQueuePair Queues { get; }

    public byte Version { get; }

    /// <summary>Connects and completes a valid v3 memfd handshake with a 1 MiB region (4 KiB and 16 KiB slices).</summary>
    /// <param name="socketPath">The server's socket.</param>
    /// <param name="queueCapacity">Elements per IO queue (a small queue fills quickly when nobody pops it).</param>
    public static RawClientSession Connect(string socketPath, uint queueCapacity = QueueCapacity)
    {
        var socket = SocketFd.ConnectUnix(socketPath, IoTimeout);
        SharedRegion? bufferRegion = null;
        SharedRegion? queueRegion = null;
        try
        {
            var prefix = $"/dev/shm/shmipc_hostile_{Environment.ProcessId}";
            var bufferName = prefix + "_buffer";
            var queueName = prefix + "_queue_0";
            bufferRegion = SharedRegion.CreateMemFd("shmipc" + bufferName, 1024 * 1024);
            ReadOnlySpan<(uint, uint)> classes = [(4096u, 50u), (16384u, 50u)];
            var manager = BufferManager.Create(bufferRegion.Base, bufferRegion.Length, classes);
            queueRegion = SharedRegion.CreateMemFd("shmipc" + queueName, IoQueuePair.SizeFor(queueCapacity));
            var queues = IoQueuePair.Create(queueRegion.Base, queueRegion.Length, queueCapacity, isCreator: true, QueueLayout.Current);
            var request = ClientHandshakeRequest.MemFdV3(queueName, bufferName, bufferRegion.FileDescriptor.Fd, queueRegion.FileDescriptor.Fd);
            var version = HandshakeClient.Run(new SocketHandshakeTransport(socket), request, IoTimeout);
            return new RawClientSession(queueName, socket, bufferRegion, manager, queueRegion, queues, (byte)version);
        }
        catch
        {
            socket.Dispose();
            queueRegion?.Dispose();
            bufferRegion?.Dispose();
            throw;
        }
    }

    /// <summary>Writes raw bytes to the socket.</summary>
    public void Send(ReadOnlySpan<byte> bytes) => Socket.SendAll(bytes, IoTimeout);

    /// <summary>Puts an element into the client → server queue and sends the Polling frame that wakes the server.</summary>
    public void PutAndWake(QueueElement element)
    {
        if (!Queues.SendQueue.TryPut(element))
        {
            throw new InvalidOperationException("the client → server queue is full");
        }

        Queues.SendQueue.MarkWorking();
        Span<byte> polling = stackalloc byte[ProtocolConstants.HeaderSize];
        HeaderOnlyFrame.Write(polling, Version, EventType.Polling);
        Send(polling);
    }

    /// <summary>Waits until the server closes the connection; returns how it ended.</summary>
    public string WaitForServerClose(TimeSpan timeout)
    {
        Span<byte> one = stackalloc byte[1];
        try
        {
            Socket.ReceiveExactly(one, timeout);
            return "server sent data instead of closing";
        }
        catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.PeerClosed)
        {
            return "closed";
        }
        catch (ShmipcException e)
        {
            return $"{e.ErrorCode}: {e.Message}";
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        QueueRegion.Dispose();
        BufferRegion.Dispose();
    }
}
