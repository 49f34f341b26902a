using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Sessions;

/// <summary>Builds client sessions: connect, create the session's own shared memory, handshake.</summary>
internal static unsafe class ClientSessionFactory
{
    /// <summary>
    /// Runs the whole client side synchronously (the caller offloads it): connect first, then create the shared
    /// memory (the order shmipc-go uses, docs/PROTOCOL.md "Corrections" 2), then the handshake under one deadline.
    /// </summary>
    public static Session Connect(Func<TimeSpan, SocketFd> connect, ShmipcClientOptions options, CancellationToken cancellationToken)
    {
        var socket = connect(options.ConnectTimeout);
        using var cancelRegistration = cancellationToken.Register(static s => ((SocketFd)s!).Shutdown(), socket);
        ClientSessionMemory? memory = null;
        try
        {
            // memfd over TCP never gets here: ShmipcClient.ConnectTcpAsync refuses it before connecting.
            // Before any shared memory is created or an fd is sent: is the listening process one we trust?
            PeerAuthorization.CheckServer(socket, options);

            memory = ClientSessionMemorySpares.Take(options);
            var queueName = memory.Names.Queue;
            var bufferName = memory.Names.Buffer;
            var request = options.MemoryMapType switch
            {
                MemoryMapType.MemFd => ClientHandshakeRequest.MemFdV3(queueName, bufferName, memory.Buffer.Region.FileDescriptor.Fd, memory.QueueRegion.FileDescriptor.Fd),
                _ when options.FileModeProtocolVersion == 3 => ClientHandshakeRequest.FilePathV3(queueName, bufferName),
                _ => ClientHandshakeRequest.FilePathV2(queueName, bufferName),
            };
            var version = HandshakeClient.Run(new SocketHandshakeTransport(socket), request, options.HandshakeTimeout);
            cancellationToken.ThrowIfCancellationRequested();
            socket.SetNonBlocking(true);

            // A file-mode queue is unlinked with the region, by inode: a file created later under the name is not ours.
            memory.QueueRegion.DeleteOnDispose = options.MemoryMapType == MemoryMapType.DevShmFile;
            var session = new Session(
                isClient: true,
                name: queueName,
                socket,
                (byte)version,
                memory.Buffer,
                memory.QueueRegion,
                memory.Queues,
                options,
                onClosed: null);
            session.Start();
            ClientSessionMemorySpares.PrepareNext(options);
            return session;
        }
        catch (Exception e)
        {
            socket.Dispose();
            memory?.Dispose(deleteQueueFile: options.MemoryMapType == MemoryMapType.DevShmFile);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("connecting the shmipc session was cancelled.", e, cancellationToken);
            }

            throw;
        }
    }
}
