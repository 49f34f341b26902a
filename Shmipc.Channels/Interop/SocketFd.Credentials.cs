namespace Shmipc.Channels.Interop;

internal sealed partial class SocketFd
{
    /// <summary>
    /// The peer's credentials from SO_PEERCRED, or null for TCP (which carries none). For a connected client socket
    /// these are the server's credentials from when it called listen; for an accepted socket, the client's from connect.
    /// </summary>
    public unsafe PeerCredentials? GetPeerCredentials()
    {
        if (!IsUnix)
        {
            return null;
        }

        Interop.ucred cred;
        uint len = (uint)sizeof(Interop.ucred);
        Interop.CheckIo(Interop.Libc.getsockopt(_handle, Interop.SOL_SOCKET, Interop.SO_PEERCRED, &cred, &len), "getsockopt(SO_PEERCRED)");
        return new PeerCredentials(cred.pid, cred.uid, cred.gid);
    }
}
