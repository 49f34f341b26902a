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
    public static RawClientSession Connect(string socketPath, uint queueCapacity = QueueCapacity) =>
        Connect(socketPath, MemoryMapType.MemFd, seal: true, $"/dev/shm/shmipc_hostile_{Environment.ProcessId}", queueCapacity);

    /// <summary>
    /// Connects like <see cref="Connect(string, uint)"/> in <paramref name="mode"/>: memfds sealed as Shmipc.NET makes them,
    /// or unsealed as shmipc-go makes them (<paramref name="seal"/> false); or files <paramref name="prefix"/>_buffer and
    /// _queue_0 with a v2 file-path handshake, as shmipc-go's default mode.
    /// </summary>
    public static RawClientSession Connect(string socketPath, MemoryMapType mode, bool seal, string prefix, uint queueCapacity = QueueCapacity)
    {
        var socket = SocketFd.ConnectUnix(socketPath, IoTimeout);
        SharedRegion? bufferRegion = null;
        SharedRegion? queueRegion = null;
        try
        {
            var bufferName = prefix + "_buffer";
            var queueName = prefix + "_queue_0";
            var memfd = mode == MemoryMapType.MemFd;
            bufferRegion = memfd ? SharedRegion.CreateMemFd("shmipc" + bufferName, 1024 * 1024, seal: seal) : SharedRegion.CreateFile(bufferName, 1024 * 1024);
            ReadOnlySpan<(uint, uint)> classes = [(4096u, 50u), (16384u, 50u)];
            var manager = BufferManager.Create(bufferRegion.Base, bufferRegion.Length, classes);
            var queueSize = IoQueuePair.SizeFor(queueCapacity);
            queueRegion = memfd ? SharedRegion.CreateMemFd("shmipc" + queueName, queueSize, seal: seal) : SharedRegion.CreateFile(queueName, queueSize);
            var queues = IoQueuePair.Create(queueRegion.Base, queueRegion.Length, queueCapacity, isCreator: true, QueueLayout.Current);
            var request = memfd
                ? ClientHandshakeRequest.MemFdV3(queueName, bufferName, bufferRegion.FileDescriptor.Fd, queueRegion.FileDescriptor.Fd)
                : ClientHandshakeRequest.FilePathV2(queueName, bufferName);
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
        SendPolling();
    }

    /// <summary>Sends a Polling frame: the server drains its receive queue.</summary>
    public void SendPolling()
    {
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

    /// <summary>Writes <paramref name="text"/> into a fresh slice and returns its offset (nothing is queued yet).</summary>
    public uint WriteMessage(string text)
    {
        if (!Manager.TryAllocate(text.Length, out var slice))
        {
            throw new InvalidOperationException("the region has no free slice");
        }

        var written = System.Text.Encoding.ASCII.GetBytes(text, Manager.GetSliceData(slice));
        Manager.SetSliceLength(slice, written);
        return slice;
    }

    public void Dispose()
    {
        Socket.Dispose();
        QueueRegion.Dispose();
        BufferRegion.Dispose();
    }
}
