namespace Shmipc.Channels.Sessions;

/// <summary>
/// A client connection whose handshake succeeded: the socket, the session's own shared memory and the negotiated
/// version, not yet driven by a session engine. <see cref="ClientConnector"/> makes it; the caller either builds a
/// <see cref="Session"/> on it (which then owns everything) or disposes it.
/// </summary>
internal sealed class ClientConnection : IDisposable
{
    private readonly bool _deleteQueueFile;
    private int _disposed;

    public ClientConnection(Interop.SocketFd socket, ClientSessionMemory memory, byte version, bool deleteQueueFile)
    {
        Socket = socket;
        Memory = memory;
        Version = version;
        _deleteQueueFile = deleteQueueFile;
    }

    /// <summary>The connected socket (non-blocking once the handshake is done).</summary>
    public Interop.SocketFd Socket { get; }

    /// <summary>The buffer region and the queue pair announced in the handshake.</summary>
    public ClientSessionMemory Memory { get; }

    /// <summary>The negotiated protocol version (2 or 3).</summary>
    public byte Version { get; }

    /// <summary>The queue's logical name: the session's name on both sides.</summary>
    public string Name => Memory.Names.Queue;

    /// <summary>Closes the socket and releases the memory (a file-mode queue file is unlinked by inode).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Socket.Dispose();
        Memory.Dispose(_deleteQueueFile);
    }
}
