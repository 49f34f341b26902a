using Shmipc.Channels.Interop;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The client's connection step, shared by every client that needs one (<see cref="ClientSessionFactory"/>, the pool's
/// rebuilds and hot restarts, and the raw peers of the tests): connect, check the server, create the session's own
/// shared memory, run the handshake.
/// </summary>
internal static class ClientConnector
{
    /// <summary>
    /// Runs the whole step synchronously (the caller offloads it): connect first, then create the shared memory (the
    /// order shmipc-go uses, docs/PROTOCOL.md "Corrections" 2), then the handshake under one deadline.
    /// </summary>
    /// <param name="connect">Opens the socket within the given timeout.</param>
    /// <param name="options">Validated client options.</param>
    /// <param name="epoch">
    /// The hot-restart epoch: non-null builds the memory under epoch-suffixed names (<see cref="ClientShmNames"/>), as
    /// shmipc-go's SessionManager does for every session it dials after a HotRestart.
    /// </param>
    /// <param name="seal">Whether memfds are sealed against shrinking (false only to play a shmipc-go client).</param>
    /// <param name="cancellationToken">Cancels the step (the socket is shut down, so a blocked handshake returns).</param>
    public static ClientConnection Connect(
        Func<TimeSpan, SocketFd> connect, ShmipcClientOptions options, ulong? epoch, bool seal, CancellationToken cancellationToken)
    {
        var socket = connect(options.ConnectTimeout);
        using var cancelRegistration = cancellationToken.Register(static s => ((SocketFd)s!).Shutdown(), socket);
        var deleteQueueFile = options.MemoryMapType == MemoryMapType.DevShmFile;
        ClientSessionMemory? memory = null;
        try
        {
            // memfd over TCP never gets here: the public TCP connect refuses it before connecting.
            // Before any shared memory is created or an fd is sent: is the listening process one we trust?
            PeerAuthorization.CheckServer(socket, options);

            // Spares are laid out ahead for the plain names only; an epoch session gets fresh memory under its names.
            memory = epoch is null && seal ? ClientSessionMemorySpares.Take(options) : ClientSessionMemory.Create(options, epoch, seal);
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
            return new ClientConnection(socket, memory, (byte)version, deleteQueueFile);
        }
        catch (Exception e)
        {
            socket.Dispose();
            memory?.Dispose(deleteQueueFile);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("connecting the shmipc session was cancelled.", e, cancellationToken);
            }

            throw;
        }
    }
}
