using System.Net;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels;

/// <summary>Connects client sessions to a shmipc server (shmipc-go, shmipc-rs or Shmipc.NET).</summary>
/// <example>
/// <code>
/// await using var session = await ShmipcClient.ConnectAsync("/tmp/app.sock");
/// await using var stream = session.OpenStream();
/// await stream.WriteAsync("hello"u8.ToArray());
/// </code>
/// </example>
public static class ShmipcClient
{
    /// <summary>
    /// Connects to a server on a Unix domain socket, creates the session's own shared memory (a buffer region and a
    /// queue that no other session uses, freed when the session has ended and its last lease is disposed) and runs the
    /// handshake.
    /// </summary>
    /// <param name="socketPath">The server's socket path.</param>
    /// <param name="options">Settings; null for the defaults (memfd, 32 MiB, shmipc-go's size classes).</param>
    /// <param name="cancellationToken">Cancels connecting and the handshake.</param>
    /// <exception cref="ShmipcException">
    /// Invalid options, no server, the handshake failed or timed out, or the server runs as a user this client does not
    /// trust (<see cref="ShmipcErrorCode.PeerNotAuthorized"/>, see <see cref="ShmipcClientOptions.AllowedServerUserIds"/>).
    /// </exception>
    public static Task<ShmipcSession> ConnectAsync(string socketPath, ShmipcClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        return ConnectCoreAsync(timeout => SocketFd.ConnectUnix(socketPath, timeout), options, cancellationToken);
    }

    /// <summary>
    /// Connects over TCP. Only file mode works there (memfd needs a Unix socket to pass its fds), so null options mean
    /// the defaults with <see cref="MemoryMapType.DevShmFile"/>. TCP carries no credentials: the server is not checked.
    /// </summary>
    /// <param name="endPoint">The server's address.</param>
    /// <param name="options">
    /// Settings; null for the defaults in file mode. <see cref="ShmipcClientOptions.MemoryMapType"/> must be
    /// <see cref="MemoryMapType.DevShmFile"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels connecting and the handshake.</param>
    /// <exception cref="ShmipcException">
    /// Invalid options (memfd mode is refused with <see cref="ShmipcErrorCode.InvalidConfiguration"/> before any
    /// connection is made), no server, or the handshake failed or timed out.
    /// </exception>
    public static Task<ShmipcSession> ConnectTcpAsync(IPEndPoint endPoint, ShmipcClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new ShmipcClientOptions { MemoryMapType = MemoryMapType.DevShmFile };
        return ConnectCoreAsync(timeout => SocketFd.ConnectTcp(endPoint, timeout), options, cancellationToken, overTcp: true);
    }

    private static async Task<ShmipcSession> ConnectCoreAsync(Func<TimeSpan, SocketFd> connect, ShmipcClientOptions? options, CancellationToken cancellationToken, bool overTcp = false)
    {
        options ??= new ShmipcClientOptions();
        options.Validate();
        if (overTcp && options.MemoryMapType == MemoryMapType.MemFd)
        {
            // Refused before connecting: a server should not see a connection that can only be dropped.
            throw new ShmipcException(
                ShmipcErrorCode.InvalidConfiguration,
                "memfd mode needs a Unix domain socket (the memory is passed as file descriptors); over TCP set MemoryMapType.DevShmFile, or pass no options.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        // Connect and handshake block (bounded by their timeouts) on a thread of their own, not the thread pool's.
        var session = await Task.Factory.StartNew(
            () => ClientSessionFactory.Connect(connect, options, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
        return ShmipcSession.Of(session);
    }
}
