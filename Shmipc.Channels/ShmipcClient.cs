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

    /// <summary>Connects over TCP (file mode only: memfd needs a Unix socket).</summary>
    /// <param name="endPoint">The server's address.</param>
    /// <param name="options">Settings; <see cref="ShmipcClientOptions.MemoryMapType"/> must be <see cref="MemoryMapType.DevShmFile"/>.</param>
    /// <param name="cancellationToken">Cancels connecting and the handshake.</param>
    /// <exception cref="ShmipcException">Invalid options, no server, or the handshake failed or timed out.</exception>
    public static Task<ShmipcSession> ConnectTcpAsync(IPEndPoint endPoint, ShmipcClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(options);
        return ConnectCoreAsync(timeout => SocketFd.ConnectTcp(endPoint, timeout), options, cancellationToken);
    }

    private static async Task<ShmipcSession> ConnectCoreAsync(Func<TimeSpan, SocketFd> connect, ShmipcClientOptions? options, CancellationToken cancellationToken)
    {
        options ??= new ShmipcClientOptions();
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        // Connect and handshake block (bounded by their timeouts) on a thread of their own, not the thread pool's.
        var session = await Task.Factory.StartNew(
            () => ClientSessionFactory.Connect(connect, options, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
        return session.Public;
    }
}
