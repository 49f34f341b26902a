using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Sessions;

/// <summary>Builds client sessions: connect, create the queue (the buffer region is shared), handshake.</summary>
internal static unsafe class ClientSessionFactory
{
    private static int s_sessionIndex = -1;

    /// <summary>
    /// Runs the whole client side synchronously (the caller offloads it): connect first, then create the shared
    /// memory (the order shmipc-go uses, docs/PROTOCOL.md "Corrections" 2), then the handshake under one deadline.
    /// </summary>
    public static Session Connect(Func<TimeSpan, SocketFd> connect, ShmipcClientOptions options, CancellationToken cancellationToken)
    {
        var socket = connect(options.ConnectTimeout);
        using var cancelRegistration = cancellationToken.Register(static s => ((SocketFd)s!).Shutdown(), socket);
        SharedBuffer? buffer = null;
        SharedRegion? queueRegion = null;
        try
        {
            if (options.MemoryMapType == MemoryMapType.MemFd && !socket.IsUnix)
            {
                throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, "memfd mode needs a Unix domain socket; use MemoryMapType.DevShmFile over TCP.");
            }

            // Before any shared memory is created or an fd is sent: is the listening process one we trust?
            PeerAuthorization.CheckServer(socket, options);

            buffer = ClientBufferRegistry.Acquire(options, out var bufferName);
            var index = Interlocked.Increment(ref s_sessionIndex);
            var queueName = $"{options.PathPrefix}_{Environment.ProcessId}_queue_{index}";
            var queueSize = IoQueuePair.SizeFor((uint)options.QueueCapacity);
            queueRegion = options.MemoryMapType == MemoryMapType.MemFd
                ? SharedRegion.CreateMemFd("shmipc" + queueName, queueSize)
                : SharedRegion.CreateFile(queueName, queueSize, options.FileMode);
            var queues = IoQueuePair.Create(queueRegion.Base, queueRegion.Length, (uint)options.QueueCapacity, isCreator: true, QueueLayout.Current);

            var request = options.MemoryMapType switch
            {
                MemoryMapType.MemFd => ClientHandshakeRequest.MemFdV3(queueName, bufferName, buffer.Region.FileDescriptor.Fd, queueRegion.FileDescriptor.Fd),
                _ when options.FileModeProtocolVersion == 3 => ClientHandshakeRequest.FilePathV3(queueName, bufferName),
                _ => ClientHandshakeRequest.FilePathV2(queueName, bufferName),
            };
            var version = HandshakeClient.Run(new SocketHandshakeTransport(socket), request, options.HandshakeTimeout);
            cancellationToken.ThrowIfCancellationRequested();
            socket.SetNonBlocking(true);

            var session = new Session(
                isClient: true,
                name: queueName,
                socket,
                (byte)version,
                buffer,
                queueRegion,
                queues,
                options,
                queueFileToDelete: options.MemoryMapType == MemoryMapType.DevShmFile ? queueName : null,
                onClosed: null);
            session.Start();
            return session;
        }
        catch (Exception e)
        {
            socket.Dispose();
            if (queueRegion is not null)
            {
                queueRegion.DeleteOnDispose = options.MemoryMapType == MemoryMapType.DevShmFile;
                queueRegion.Dispose();
            }

            buffer?.Release();
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("connecting the shmipc session was cancelled.", e, cancellationToken);
            }

            throw;
        }
    }
}
