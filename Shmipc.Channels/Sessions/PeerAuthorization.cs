using System.Globalization;
using Shmipc.Channels.Interop;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// Who may talk to whom: both ends read the other's uid from the kernel (SO_PEERCRED) and accept only their own user,
/// root and the users the options name. In file mode the server also accepts only files the client's user owns.
/// </summary>
internal static class PeerAuthorization
{
    /// <summary>Checks an accepted client; returns its credentials (null over TCP, which carries none).</summary>
    public static PeerCredentials? CheckClient(SocketFd socket, ShmipcServerOptions options)
    {
        var peer = socket.GetPeerCredentials();
        if (peer is { } p && !IsAllowed(p.UserId, options.AllowedClientUserIds, options.AllowAnyClientUser))
        {
            throw new ShmipcException(
                ShmipcErrorCode.PeerNotAuthorized,
                string.Create(CultureInfo.InvariantCulture, $"Refusing a client running as uid {p.UserId} (pid {p.ProcessId}): this server runs as uid {PeerCredentials.CurrentUserId} and accepts only its own user and root; add uid {p.UserId} to {nameof(ShmipcServerOptions)}.{nameof(ShmipcServerOptions.AllowedClientUserIds)} to accept it."));
        }

        return peer;
    }

    /// <summary>Checks the server a client connected to, before anything is created or sent.</summary>
    public static void CheckServer(SocketFd socket, ShmipcClientOptions options)
    {
        if (socket.GetPeerCredentials() is { } p && !IsAllowed(p.UserId, options.AllowedServerUserIds, options.AllowAnyServerUser))
        {
            throw new ShmipcException(
                ShmipcErrorCode.PeerNotAuthorized,
                string.Create(CultureInfo.InvariantCulture, $"Refusing a server running as uid {p.UserId} (pid {p.ProcessId}): this client runs as uid {PeerCredentials.CurrentUserId} and talks only to servers of its own user and root; nothing was sent. Add uid {p.UserId} to {nameof(ShmipcClientOptions)}.{nameof(ShmipcClientOptions.AllowedServerUserIds)} to trust it."));
        }
    }

    /// <summary>
    /// File mode: the file must belong to the client's user (a client may announce only its own files). Over TCP the
    /// owner must be a user allowed to connect, since the owner is all the server knows about the client.
    /// </summary>
    public static void CheckFileOwner(uint owner, string path, PeerCredentials? peer, ShmipcServerOptions options)
    {
        if (peer is { } p)
        {
            if (owner != p.UserId)
            {
                throw new ShmipcException(
                    ShmipcErrorCode.PeerNotAuthorized,
                    string.Create(CultureInfo.InvariantCulture, $"Refusing to map '{path}': it belongs to uid {owner}, but the client runs as uid {p.UserId}; a client may only announce its own files."));
            }
        }
        else if (!IsAllowed(owner, options.AllowedClientUserIds, options.AllowAnyClientUser))
        {
            throw new ShmipcException(
                ShmipcErrorCode.PeerNotAuthorized,
                string.Create(CultureInfo.InvariantCulture, $"Refusing to map '{path}': it belongs to uid {owner}, a user that may not use this server (TCP carries no credentials, so the owner of the files stands for the client)."));
        }
    }

    private static bool IsAllowed(uint uid, IReadOnlyCollection<uint> allowed, bool any) =>
        any || uid == 0 || uid == PeerCredentials.CurrentUserId || allowed.Contains(uid);
}
