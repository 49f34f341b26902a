using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Sessions;

/// <summary>Builds server sessions from accepted connections: handshake, map the client's memory, acknowledge.</summary>
internal static unsafe class ServerSessionFactory
{
    /// <summary>
    /// Runs the server side of the handshake synchronously (the caller offloads it). Every failure closes the
    /// connection and releases what was mapped; the exception says which step failed.
    /// </summary>
    public static Session Accept(SocketFd socket, ShmipcServerOptions options, Action<Session>? onClosed)
    {
        ServerAnnouncement? announcement = null;
        SharedRegion? queueRegion = null;
        SharedRegion? bufferRegion = null;
        SharedBuffer? buffer = null;
        try
        {
            socket.SetNonBlocking(true);
            var transport = new SocketHandshakeTransport(socket);
            announcement = HandshakeServer.ReceiveAnnouncement(transport, options.HandshakeTimeout, static fd => new SafeFdHandle(fd, ownsHandle: true).Dispose());
            if (announcement.Mode == HandshakeMode.MemFdV3)
            {
                var (bufferFd, queueFd) = announcement.TakeFds();
                var bufferHandle = new SafeFdHandle(bufferFd, ownsHandle: true);
                var queueHandle = new SafeFdHandle(queueFd, ownsHandle: true);
                try
                {
                    bufferRegion = SharedRegion.OpenFd(bufferHandle, announcement.BufferPath);
                }
                catch
                {
                    bufferHandle.Dispose();
                    queueHandle.Dispose();
                    throw;
                }

                queueRegion = SharedRegion.OpenFd(queueHandle, announcement.QueuePath);
                RequireSealed(options, bufferRegion, "buffer region");
                RequireSealed(options, queueRegion, "queue");
            }
            else
            {
                if (options.RequireSealedMemory)
                {
                    throw new ShmipcException(
                        ShmipcErrorCode.HandshakeFailed,
                        $"handshake: the client shares memory through files ('{announcement.BufferPath}'), which anyone who can open them may truncate, and RequireSealedMemory is set; the client must use memfd mode.");
                }

                bufferRegion = SharedRegion.OpenFile(announcement.BufferPath, options.AllowFilesOutsideDevShm);
                queueRegion = SharedRegion.OpenFile(announcement.QueuePath, options.AllowFilesOutsideDevShm);
            }

            // Each server session maps the client's region on its own (shmipc-go shares one mapping per name): a
            // hostile client cannot then make us reuse another client's mapping by announcing its name.
            var manager = Map(() => BufferManager.Map(bufferRegion.Base, bufferRegion.Length), "buffer region", announcement.BufferPath);
            var queues = Map(() => IoQueuePair.Map(queueRegion.Base, queueRegion.Length, isCreator: false, QueueLayout.Current), "queue", announcement.QueuePath);
            HandshakeServer.Acknowledge(transport, announcement);

            // File mode: the last server session that maps the client's buffer file unlinks it (see ServerBufferFiles).
            var isFile = announcement.Mode != HandshakeMode.MemFdV3;
            if (isFile)
            {
                ServerBufferFiles.Acquire(announcement.BufferPath);
            }

            buffer = new SharedBuffer(bufferRegion, manager, announcement.BufferPath, isFile ? OnLastFileBufferRelease : null);
            bufferRegion = null;
            var session = new Session(
                isClient: false,
                name: announcement.QueuePath,
                socket,
                announcement.Version,
                buffer,
                queueRegion,
                queues,
                options,
                queueFileToDelete: isFile ? announcement.QueuePath : null,
                onClosed);
            session.Start();
            return session;
        }
        catch
        {
            announcement?.CloseFds();
            queueRegion?.Dispose();
            bufferRegion?.Dispose();
            buffer?.Release();
            socket.Dispose();
            throw;
        }
    }

    private static void OnLastFileBufferRelease(SharedBuffer buffer)
    {
        if (ServerBufferFiles.Release((string)buffer.Key))
        {
            buffer.Region.DeleteOnDispose = true;
        }
    }

    /// <summary>
    /// Memory that can shrink under our mapping is guarded (SigbusGuard) where possible; with RequireSealedMemory it is
    /// refused instead.
    /// </summary>
    private static void RequireSealed(ShmipcServerOptions options, SharedRegion region, string what)
    {
        if (options.RequireSealedMemory && !region.IsSealed)
        {
            throw new ShmipcException(
                ShmipcErrorCode.HandshakeFailed,
                $"handshake: the client's {what} '{region.Name}' is a memfd that is not sealed against shrinking (as shmipc-go creates them), and RequireSealedMemory is set.");
        }
    }

    private static T Map<T>(Func<T> map, string what, string name)
    {
        try
        {
            return map();
        }
        catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.CorruptSharedMemory)
        {
            throw new ShmipcException(ShmipcErrorCode.HandshakeFailed, $"handshake: the client's {what} '{name}' is not a valid shmipc layout: {e.Message}", e);
        }
    }
}
