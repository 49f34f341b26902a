using Shmipc.Channels.Interop;

namespace Shmipc.Channels.Sessions;

/// <summary>Builds client sessions: the connection step (<see cref="ClientConnector"/>), then a session engine on it.</summary>
internal static class ClientSessionFactory
{
    /// <summary>Connects (synchronously; the caller offloads it) and starts a session on the connection.</summary>
    /// <param name="connect">Opens the socket within the given timeout.</param>
    /// <param name="options">Validated client options.</param>
    /// <param name="cancellationToken">Cancels connecting and the handshake.</param>
    /// <param name="epoch">The hot-restart epoch for the shared-memory names; null for a first connection.</param>
    /// <param name="onHotRestart">Who handles the server's HotRestart frames (a pool); set before the session starts.</param>
    public static Session Connect(
        Func<TimeSpan, SocketFd> connect, ShmipcClientOptions options, CancellationToken cancellationToken, ulong? epoch = null, Action<Session, ulong>? onHotRestart = null)
    {
        var connection = ClientConnector.Connect(connect, options, epoch, seal: true, cancellationToken);
        Session session;
        try
        {
            // A file-mode queue is unlinked with the region, by inode: a file created later under the name is not ours.
            connection.Memory.QueueRegion.DeleteOnDispose = options.MemoryMapType == MemoryMapType.DevShmFile;
            session = new Session(
                isClient: true,
                name: connection.Name,
                connection.Socket,
                connection.Version,
                connection.Memory.Buffer,
                connection.Memory.QueueRegion,
                connection.Memory.Queues,
                options,
                onClosed: null);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        session.SetHotRestartHandler(onHotRestart);
        session.Start();
        if (epoch is null)
        {
            ClientSessionMemorySpares.PrepareNext(options);
        }

        return session;
    }
}
