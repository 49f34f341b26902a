using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// A client connection made by the library's own connection step (<c>Sessions/ClientConnector</c>: connect, create
/// the session's shared memory, handshake) but without a session engine on top: the hostile verbs then write whatever
/// they like to the socket and the queue.
/// </summary>
internal sealed class RawClientSession : IDisposable
{
    private const uint QueueCapacity = 1024;
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(5);
    private readonly ClientConnection _connection;

    private RawClientSession(ClientConnection connection) => _connection = connection;

    /// <summary>The queue name announced in the handshake: the server session's name.</summary>
    public string Name => _connection.Name;

    public SocketFd Socket => _connection.Socket;

    public SharedRegion BufferRegion => _connection.Memory.Buffer.Region;

    public BufferManager Manager => _connection.Memory.Buffer.Manager;

    public SharedRegion QueueRegion => _connection.Memory.QueueRegion;

    public IoQueuePair Queues => _connection.Memory.Queues;

    public byte Version => _connection.Version;

    /// <summary>Connects and completes a valid v3 memfd handshake with a 1 MiB region (4 KiB and 16 KiB slices).</summary>
    /// <param name="socketPath">The server's socket.</param>
    /// <param name="queueCapacity">Elements per IO queue (a small queue fills quickly when nobody pops it).</param>
    public static RawClientSession Connect(string socketPath, uint queueCapacity = QueueCapacity) =>
        Connect(socketPath, MemoryMapType.MemFd, seal: true, $"/dev/shm/shmipc_hostile_{Environment.ProcessId}", queueCapacity);

    /// <summary>
    /// Connects like <see cref="Connect(string, uint)"/> in <paramref name="mode"/>: memfds sealed as Shmipc.NET makes them,
    /// or unsealed as shmipc-go makes them (<paramref name="seal"/> false); or files under <paramref name="prefix"/> with a
    /// v2 file-path handshake, as shmipc-go's default mode.
    /// </summary>
    public static RawClientSession Connect(string socketPath, MemoryMapType mode, bool seal, string prefix, uint queueCapacity = QueueCapacity)
    {
        var options = new ShmipcClientOptions
        {
            MemoryMapType = mode,
            FileModeProtocolVersion = 2,
            BufferCapacity = 1024 * 1024,
            SizeClasses = [new BufferSizeClass(4096, 50), new BufferSizeClass(16384, 50)],
            QueueCapacity = (int)queueCapacity,
            PathPrefix = prefix,
            ConnectTimeout = IoTimeout,
            HandshakeTimeout = IoTimeout,
        };
        // Not validated: the hostile verbs ask for layouts the options refuse (a queue of 8 elements fills at once).
        var connection = ClientConnector.Connect(
            timeout => SocketFd.ConnectUnix(socketPath, timeout), options, epoch: null, seal, CancellationToken.None);

        // The hostile verbs write to the socket with blocking helpers; the connector leaves it non-blocking, which
        // SendAll and ReceiveExactly handle with poll.
        return new RawClientSession(connection);
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

    public void Dispose() => _connection.Dispose();
}
