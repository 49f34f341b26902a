using System.Net;
using Shmipc.Channels;

namespace Shmipc.AspNetCore;

/// <summary>
/// Where a shmipc listener accepts sessions: the path of its Unix domain socket, and the server options for it.
/// Give it to Kestrel (<c>options.Listen(new ShmipcEndPoint(path))</c>) once the shmipc transport is registered.
/// </summary>
public sealed class ShmipcEndPoint : EndPoint
{
    /// <summary>Creates an endpoint for the Unix socket at <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">The socket file clients connect to (created on bind, removed on unbind).</param>
    /// <param name="options">Server options for the sessions accepted there, or null for the defaults.</param>
    public ShmipcEndPoint(string socketPath, ShmipcServerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        SocketPath = socketPath;
        Options = options;
    }

    /// <summary>The Unix domain socket path.</summary>
    public string SocketPath { get; }

    /// <summary>Server options for the accepted sessions, or null for the defaults.</summary>
    public ShmipcServerOptions? Options { get; }

    /// <inheritdoc />
    public override string ToString() => $"shmipc:{SocketPath}";
}
