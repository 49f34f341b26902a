using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Sessions;

/// <summary>Builds server sessions from accepted connections: handshake, map the client's memory, acknowledge.</summary>
internal static unsafe class ServerSessionFactory
{
    /// <summary>
    /// Runs the server side of the handshake synchronously (the caller offloads it). Every failure closes the
    /// connection and releases what was mapped; the exception says which step failed.
    /// </summary>
    /// <param name="socket">The accepted connection; owned by the session from here on (closed on failure).</param>
    /// <param name="options">Validated server options.</param>
    /// <param name="onClosed">Called once the session has ended and released its resources.</param>
    /// <param name="onHotRestartAck">Who handles the client's HotRestartAck frames; set before the session starts.</param>
    public static Session Accept(SocketFd socket, ShmipcServerOptions options, Action<Session>? onClosed, Action<Session, ulong>? onHotRestartAck = null)
    {
        ServerAnnouncement? announcement = null;
        SharedRegion? queueRegion = null;
        SharedRegion? bufferRegion = null;
        SharedBuffer? buffer = null;
        SharedFileIdentity? queueFile = null;
        SharedFileIdentity? bufferFile = null;
        try
        {
            // Before a single byte is read: a client of a user we do not accept gets nothing (not even a handshake).
            var peer = PeerAuthorization.CheckClient(socket, options);
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
                bufferFile = ClaimFile(bufferRegion, isQueue: false, peer, options);
                queueRegion = SharedRegion.OpenFile(announcement.QueuePath, options.AllowFilesOutsideDevShm);
                queueFile = ClaimFile(queueRegion, isQueue: true, peer, options);
            }

            // Each server session maps the client's region on its own (shmipc-go shares one mapping per name): a
            // hostile client cannot then make us reuse another client's mapping by announcing its name.
            var manager = Map(() => BufferManager.Map(bufferRegion.Base, bufferRegion.Length), "buffer region", announcement.BufferPath);
            var queues = Map(() => IoQueuePair.Map(queueRegion.Base, queueRegion.Length, isCreator: false, QueueLayout.Current), "queue", announcement.QueuePath);
            HandshakeServer.Acknowledge(transport, announcement);

            // The client may have sized its region with ftruncate alone (shmipc-go does): allocate and map its pages now,
            // off the handshake and the hot path, so the first messages do not fault page by page (RegionPopulator).
            RegionPopulator.StartInBackground(bufferRegion);

            // File mode: the last server session that maps the client's buffer file unlinks it (see ServerFileRegistry),
            // and the session unlinks its queue file when it ends; both by inode, never a file since put in their place.
            buffer = bufferFile is { } claimedBuffer
                ? new SharedBuffer(bufferRegion, manager, claimedBuffer, OnLastFileBufferRelease)
                : new SharedBuffer(bufferRegion, manager, announcement.BufferPath, null);
            bufferRegion = null;
            bufferFile = null;
            if (queueFile is not null)
            {
                queueRegion.DeleteOnDispose = true;
            }

            var claimedQueue = queueFile;
            var session = new Session(
                isClient: false,
                name: announcement.QueuePath,
                socket,
                announcement.Version,
                buffer,
                queueRegion,
                queues,
                options,
                claimedQueue is { } q ? s => { ServerFileRegistry.Release(q); onClosed?.Invoke(s); } : onClosed);
            queueFile = null;
            session.SetHotRestartHandler(onHotRestartAck);
            session.Start();
            return session;
        }
        catch
        {
            // A failed handshake ends the session like a close does: files that passed the owner and in-use checks are
            // the client's own, and the server removes them (by inode) as at every session end, so a client that died or
            // gave up leaves nothing in /dev/shm. Refused files were never claimed and are left alone.
            announcement?.CloseFds();
            if (queueRegion is not null)
            {
                queueRegion.DeleteOnDispose = queueFile is not null;
                queueRegion.Dispose();
            }

            if (queueFile is { } q)
            {
                ServerFileRegistry.Release(q);
            }

            if (bufferRegion is not null)
            {
                bufferRegion.DeleteOnDispose = bufferFile is { } b && ServerFileRegistry.Release(b);
                bufferRegion.Dispose();
            }

            buffer?.Release();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// File mode: checks that the opened file belongs to the client's user and is not used by another live session, and
    /// claims it (see <see cref="ServerFileRegistry"/>). Regular file and no symlink were checked when it was opened.
    /// </summary>
    private static SharedFileIdentity ClaimFile(SharedRegion region, bool isQueue, PeerCredentials? peer, ShmipcServerOptions options)
    {
        var st = Native.FStat(region.FileDescriptor, region.Name);
        PeerAuthorization.CheckFileOwner(st.stx_uid, region.Name, peer, options);
        var file = SharedFileIdentity.Of(st);
        ServerFileRegistry.Claim(file, isQueue, peer?.ProcessId, region.Name);
        return file;
    }

    private static void OnLastFileBufferRelease(SharedBuffer buffer)
    {
        if (ServerFileRegistry.Release((SharedFileIdentity)buffer.Key))
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
