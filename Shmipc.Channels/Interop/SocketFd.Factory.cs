using System.Net;

namespace Shmipc.Channels.Interop;

internal sealed partial class SocketFd
{
    private const int StreamFlags = Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC | Interop.SOCK_NONBLOCK;

    /// <summary>The bound address of a TCP socket (the real port after binding port 0).</summary>
    public unsafe IPEndPoint LocalEndPoint
    {
        get
        {
            if (IsUnix)
            {
                throw new InvalidOperationException("A Unix domain socket has no IPEndPoint.");
            }

            Interop.sockaddr_storage ss;
            uint len = (uint)sizeof(Interop.sockaddr_storage);
            Interop.CheckIo(Interop.Libc.getsockname(_handle, &ss, &len), "getsockname");
            return SocketAddresses.ToEndPoint(&ss);
        }
    }

    /// <summary>Connects to a Unix socket at <paramref name="path"/>, waiting at most <paramref name="timeout"/> for a full backlog.</summary>
    public static unsafe SocketFd ConnectUnix(string path, TimeSpan timeout)
    {
        Interop.EnsureSupported();
        Interop.sockaddr_un addr = SocketAddresses.Unix(path, out uint addrLen);
        Deadline deadline = Deadline.FromTimeout(timeout);

        // A non-blocking AF_UNIX connect fails with EAGAIN when the backlog is full instead of waiting, and
        // there is nothing to poll for. So connect in blocking mode, bounded by SO_SNDTIMEO (which
        // unix_stream_connect honours), then switch to non-blocking.
        SocketFd socket = Create(Interop.AF_UNIX, Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC, isUnix: true);
        try
        {
            while (true)
            {
                socket.SetSendTimeout(deadline.IsInfinite ? -1 : Math.Max(1, deadline.RemainingMilliseconds));
                if (Interop.Libc.connect(socket._handle, &addr, addrLen) == 0)
                {
                    break;
                }

                int errno = Interop.LastErrno;
                if (errno == Interop.Errno.EISCONN)
                {
                    break;
                }

                if (errno == Interop.Errno.EAGAIN || (errno == Interop.Errno.EINTR && deadline.HasExpired))
                {
                    throw new ShmipcException(ShmipcErrorCode.Timeout, $"connect({path}) timed out: the listener's backlog stayed full.");
                }

                if (errno != Interop.Errno.EINTR)
                {
                    Interop.Throw(errno, $"connect({path})");
                }
            }

            socket.SetSendTimeout(-1);
            socket.SetNonBlocking(true);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects to a TCP endpoint (non-blocking connect, then poll) within <paramref name="timeout"/>; sets TCP_NODELAY.</summary>
    public static unsafe SocketFd ConnectTcp(IPEndPoint endPoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Interop.EnsureSupported();
        Deadline deadline = Deadline.FromTimeout(timeout);
        Interop.sockaddr_storage ss;
        uint len = SocketAddresses.FromEndPoint(endPoint, &ss);
        SocketFd socket = Create(ss.ss_family, StreamFlags, isUnix: false);
        try
        {
            if (Interop.Libc.connect(socket._handle, &ss, len) < 0)
            {
                int errno = Interop.LastErrno;

                // EINTR: the connection continues asynchronously, exactly as for EINPROGRESS.
                if (errno is not (Interop.Errno.EINPROGRESS or Interop.Errno.EINTR))
                {
                    Interop.Throw(errno, $"connect({endPoint})");
                }

                if (Poll.Wait(socket._handle, Interop.POLLOUT, deadline) == 0)
                {
                    throw new ShmipcException(ShmipcErrorCode.Timeout, $"connect({endPoint}) timed out.");
                }

                int error = socket.GetSocketOption(Interop.SOL_SOCKET, Interop.SO_ERROR);
                if (error != 0)
                {
                    Interop.Throw(error, $"connect({endPoint})");
                }
            }

            socket.SetSocketOption(Interop.IPPROTO_TCP, Interop.TCP_NODELAY, 1);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Listens on a Unix socket at <paramref name="path"/> (non-blocking). An existing socket file nobody
    /// listens on is removed first; a live one, or any other kind of file, is an EADDRINUSE error.
    /// Disposing the listener removes the socket file if it is still the one it bound.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Liveness is probed with a connect, so a live listener on the path sees one connection that closes
    /// at once; that is the price of never stealing another server's path.
    /// </para>
    /// <para>
    /// The socket file gets exactly <paramref name="mode"/>. On Linux bind creates the file with the socket inode's
    /// mode minus the umask, so an fchmod of the socket before bind makes the file no wider than asked from the start
    /// (no window in which another user may connect). A chmod after bind then only widens it to the asked mode where
    /// the umask took bits away; that step goes by path, so the directory must be one only trusted users can write
    /// (anyone who can write there can replace the socket file anyway, which is why clients check the server's uid).
    /// </para>
    /// </remarks>
    public static unsafe SocketFd ListenUnix(string path, int backlog, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        Interop.EnsureSupported();
        Interop.sockaddr_un addr = SocketAddresses.Unix(path, out uint addrLen);
        RemoveStaleSocket(path, &addr, addrLen);
        return BindAndListen(path, backlog, mode);
    }

    /// <summary>
    /// Takes the path over from a server that may still listen on it (hot restart): binds and listens on a temporary
    /// name in the same directory, then renames it over <paramref name="path"/>. rename(2) replaces the old socket file
    /// atomically, so a client connecting meanwhile reaches the old server or the new one, never nothing; the old
    /// server keeps its listening socket (it only loses the name) and, being inode-checked, does not remove the new
    /// file when it is disposed. Any other kind of file at the path is an EADDRINUSE error, as in <see cref="ListenUnix"/>.
    /// </summary>
    public static unsafe SocketFd ListenUnixTakeOver(string path, int backlog, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        Interop.EnsureSupported();
        _ = SocketAddresses.Unix(path, out _);
        if (Interop.TryLStat(path, out Interop.statx_t existing) && (existing.stx_mode & Interop.S_IFMT) != Interop.S_IFSOCK)
        {
            Interop.Throw(Interop.Errno.EADDRINUSE, $"bind({path})", "the path exists and is not a socket; it is left alone");
        }

        var directory = Path.GetDirectoryName(path);
        var temporary = Path.Combine(string.IsNullOrEmpty(directory) ? "." : directory, $".{Guid.NewGuid():N}"[..17] + ".takeover");
        SocketFd socket = BindAndListen(temporary, backlog, mode);
        try
        {
            Interop.CheckIo(Interop.Libc.rename(temporary, path), $"rename({temporary}, {path})");
            // Same inode under its final name: from now on Dispose removes the path only while it is still ours.
            socket._listenPath = path;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Binds at <paramref name="bindPath"/> with exactly <paramref name="mode"/> and listens; owns the file by inode.</summary>
    private static unsafe SocketFd BindAndListen(string bindPath, int backlog, UnixFileMode mode)
    {
        Interop.sockaddr_un addr = SocketAddresses.Unix(bindPath, out uint addrLen);
        SocketFd socket = Create(Interop.AF_UNIX, StreamFlags, isUnix: true);
        uint permissions = (uint)mode & 0x1FF;
        try
        {
            Interop.CheckIo(Interop.Libc.fchmod(socket._handle, permissions), $"fchmod(socket for {bindPath})");
            Interop.CheckIo(Interop.Libc.bind(socket._handle, &addr, addrLen), $"bind({bindPath})");

            // Owned by path and inode from here on: a failure below (or Dispose later) unlinks the file only while it is ours.
            if (Interop.TryLStat(bindPath, out Interop.statx_t st))
            {
                socket._listenPath = bindPath;
                socket._listenIno = st.stx_ino;
                if ((st.stx_mode & Interop.S_IFMT) == Interop.S_IFSOCK && (st.stx_mode & 0x1FFu) != permissions)
                {
                    Interop.CheckIo(Interop.Libc.chmod(bindPath, permissions), $"chmod({bindPath})");
                }
            }

            Interop.CheckIo(Interop.Libc.listen(socket._handle, backlog), $"listen({bindPath})");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Listens on a TCP endpoint (SO_REUSEADDR, non-blocking); port 0 picks a free port, see <see cref="LocalEndPoint"/>.</summary>
    public static unsafe SocketFd ListenTcp(IPEndPoint endPoint, int backlog)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Interop.EnsureSupported();
        Interop.sockaddr_storage ss;
        uint len = SocketAddresses.FromEndPoint(endPoint, &ss);
        SocketFd socket = Create(ss.ss_family, StreamFlags, isUnix: false);
        try
        {
            socket.SetSocketOption(Interop.SOL_SOCKET, Interop.SO_REUSEADDR, 1);
            Interop.CheckIo(Interop.Libc.bind(socket._handle, &ss, len), $"bind({endPoint})");
            Interop.CheckIo(Interop.Libc.listen(socket._handle, backlog), $"listen({endPoint})");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A connected pair of AF_UNIX stream sockets (close-on-exec, non-blocking).</summary>
    public static unsafe (SocketFd First, SocketFd Second) CreatePair()
    {
        Interop.EnsureSupported();
        int* sv = stackalloc int[2];
        Interop.CheckIo(Interop.Libc.socketpair(Interop.AF_UNIX, StreamFlags, 0, sv), "socketpair");
        return (new SocketFd(new SafeFdHandle(sv[0], ownsHandle: true), isUnix: true),
                new SocketFd(new SafeFdHandle(sv[1], ownsHandle: true), isUnix: true));
    }

    /// <summary>accept4 with SOCK_CLOEXEC | SOCK_NONBLOCK; null when no connection is pending (EAGAIN).</summary>
    public unsafe SocketFd? TryAccept()
    {
        while (true)
        {
            int fd = Interop.Libc.accept4(_handle, null, null, Interop.SOCK_CLOEXEC | Interop.SOCK_NONBLOCK);
            if (fd >= 0)
            {
                var accepted = new SocketFd(new SafeFdHandle(fd, ownsHandle: true), IsUnix);
                if (!IsUnix)
                {
                    accepted.SetSocketOption(Interop.IPPROTO_TCP, Interop.TCP_NODELAY, 1);
                }

                return accepted;
            }

            int errno = Interop.LastErrno;
            if (errno == Interop.Errno.EAGAIN)
            {
                return null;
            }

            // ECONNABORTED: that connection died in the backlog; look for the next one.
            if (errno is not (Interop.Errno.EINTR or Interop.Errno.ECONNABORTED))
            {
                Interop.Throw(errno, "accept4");
            }
        }
    }

    private static SocketFd Create(int domain, int type, bool isUnix)
    {
        int fd = Interop.CheckIo(Interop.Libc.socket(domain, type, 0), "socket");
        return new SocketFd(new SafeFdHandle(fd, ownsHandle: true), isUnix);
    }

    private static unsafe void RemoveStaleSocket(string path, Interop.sockaddr_un* addr, uint addrLen)
    {
        if (!Interop.TryLStat(path, out Interop.statx_t st))
        {
            return;
        }

        if ((st.stx_mode & Interop.S_IFMT) != Interop.S_IFSOCK)
        {
            Interop.Throw(Interop.Errno.EADDRINUSE, $"bind({path})", "the path exists and is not a socket; it is left alone");
        }

        using SocketFd probe = Create(Interop.AF_UNIX, StreamFlags, isUnix: true);
        int errno = Interop.Libc.connect(probe._handle, addr, addrLen) == 0 ? 0 : Interop.LastErrno;
        if (errno is not (Interop.Errno.ECONNREFUSED or Interop.Errno.ENOENT))
        {
            Interop.Throw(Interop.Errno.EADDRINUSE, $"bind({path})", "another process is listening on it");
        }

        _ = Interop.Unlink(path);
    }

    private unsafe int GetSocketOption(int level, int name)
    {
        int value;
        uint len = sizeof(int);
        Interop.CheckIo(Interop.Libc.getsockopt(_handle, level, name, &value, &len), "getsockopt");
        return value;
    }

    private unsafe void SetSocketOption(int level, int name, int value) =>
        Interop.CheckIo(Interop.Libc.setsockopt(_handle, level, name, &value, sizeof(int)), "setsockopt");

    /// <summary>SO_SNDTIMEO in milliseconds; -1 clears it (block forever).</summary>
    private unsafe void SetSendTimeout(int milliseconds)
    {
        var tv = milliseconds < 0
            ? default
            : new Interop.timeval { tv_sec = milliseconds / 1000, tv_usec = milliseconds % 1000 * 1000 };
        Interop.CheckIo(Interop.Libc.setsockopt(_handle, Interop.SOL_SOCKET, Interop.SO_SNDTIMEO, &tv, (uint)sizeof(Interop.timeval)), "setsockopt(SO_SNDTIMEO)");
    }
}
