using System.Globalization;

namespace Shmipc.Channels.Interop;

/// <summary>
/// A SOCK_STREAM socket (AF_UNIX, or AF_INET/AF_INET6 TCP) in a <see cref="SafeFdHandle"/>, with
/// non-blocking primitives and deadline-bounded blocking helpers built on poll(2).
/// </summary>
/// <remarks>
/// Every socket this type creates is close-on-exec and non-blocking. Sends and receives also pass
/// MSG_DONTWAIT, so the Try* primitives never block even if <see cref="SetNonBlocking"/>(false) was called,
/// and sends pass MSG_NOSIGNAL so a dead peer yields EPIPE, never SIGPIPE. EPIPE and ECONNRESET surface as
/// <see cref="ShmipcErrorCode.PeerClosed"/>; a deadline that passes as <see cref="ShmipcErrorCode.Timeout"/>.
/// </remarks>
internal sealed partial class SocketFd : IDisposable
{
    private readonly SafeFdHandle _handle;
    private string? _listenPath;
    private ulong _listenIno;
    private int _shutdown;
    private int _disposed;

    private SocketFd(SafeFdHandle handle, bool isUnix)
    {
        _handle = handle;
        IsUnix = isUnix;
    }

    /// <summary>The owned fd.</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary>The raw fd, for epoll registration. Throws <see cref="ObjectDisposedException"/> once disposed.</summary>
    public int Fd => _handle.Fd;

    /// <summary>True for AF_UNIX, false for TCP.</summary>
    public bool IsUnix { get; }

    /// <summary>Sets or clears O_NONBLOCK (affects connect and accept; sends and receives never block anyway).</summary>
    public void SetNonBlocking(bool nonBlocking)
    {
        int flags = Interop.CheckIo(Interop.Libc.fcntl_int(_handle, Interop.F_GETFL, 0), "fcntl(F_GETFL)");
        int wanted = nonBlocking ? flags | Interop.O_NONBLOCK : flags & ~Interop.O_NONBLOCK;
        if (wanted != flags)
        {
            Interop.CheckIo(Interop.Libc.fcntl_int(_handle, Interop.F_SETFL, wanted), "fcntl(F_SETFL)");
        }
    }

    /// <summary>One non-blocking send: bytes sent, or -1 when the socket buffer is full (EAGAIN).</summary>
    public unsafe int TrySend(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = Interop.Libc.send(_handle, p, (nuint)data.Length, Interop.MSG_NOSIGNAL | Interop.MSG_DONTWAIT);
                if (n >= 0)
                {
                    return (int)n;
                }

                if (!ShouldRetry(Interop.LastErrno, "send"))
                {
                    return -1;
                }
            }
        }
    }

    /// <summary>One non-blocking receive: bytes received, 0 at end of stream, or -1 when nothing is there (EAGAIN).</summary>
    public unsafe int TryReceive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Interop.Libc.recv(_handle, p, (nuint)buffer.Length, Interop.MSG_DONTWAIT);
                if (n >= 0)
                {
                    return (int)n;
                }

                if (!ShouldRetry(Interop.LastErrno, "recv"))
                {
                    return -1;
                }
            }
        }
    }

    /// <summary>Sends all of <paramref name="data"/> within <paramref name="timeout"/>.</summary>
    public void SendAll(ReadOnlySpan<byte> data, TimeSpan timeout) => SendAll(data, Deadline.FromTimeout(timeout));

    /// <summary>Sends all of <paramref name="data"/> before <paramref name="deadline"/>.</summary>
    public void SendAll(ReadOnlySpan<byte> data, Deadline deadline)
    {
        int sent = 0;
        while (sent < data.Length)
        {
            int n = TrySend(data[sent..]);
            if (n >= 0)
            {
                sent += n;
            }
            else
            {
                WaitFor(Interop.POLLOUT, deadline, "send", sent, data.Length);
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> within <paramref name="timeout"/>; end of stream first is
    /// <see cref="ShmipcErrorCode.PeerClosed"/>.
    /// </summary>
    public void ReceiveExactly(Span<byte> buffer, TimeSpan timeout) => ReceiveExactly(buffer, Deadline.FromTimeout(timeout));

    /// <summary>Fills <paramref name="buffer"/> before <paramref name="deadline"/>.</summary>
    public void ReceiveExactly(Span<byte> buffer, Deadline deadline)
    {
        int received = 0;
        while (received < buffer.Length)
        {
            int n = TryReceive(buffer[received..]);
            if (n > 0)
            {
                received += n;
            }
            else if (n == 0)
            {
                throw new ShmipcException(
                    ShmipcErrorCode.PeerClosed,
                    string.Create(CultureInfo.InvariantCulture, $"The peer closed the connection after {received} of {buffer.Length} bytes."));
            }
            else
            {
                WaitFor(Interop.POLLIN, deadline, "receive", received, buffer.Length);
            }
        }
    }

    /// <summary>shutdown(SHUT_RDWR), once; a socket that is not connected or already closed is ignored.</summary>
    public void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0 || _handle.IsClosed)
        {
            return;
        }

        try
        {
            if (Interop.Libc.shutdown(_handle, Interop.SHUT_RDWR) < 0 && Interop.LastErrno != Interop.Errno.ENOTCONN)
            {
                Interop.Throw(Interop.LastErrno, "shutdown");
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed concurrently: nothing left to shut down.
        }
    }

    /// <summary>Closes the socket; a Unix listener also removes its socket file if it is still the one it bound.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (_listenPath is not null
                && Interop.TryLStat(_listenPath, out Interop.statx_t st)
                && (st.stx_mode & Interop.S_IFMT) == Interop.S_IFSOCK
                && st.stx_ino == _listenIno)
            {
                _ = Interop.Libc.unlink(_listenPath);
            }
        }
        catch (ShmipcException)
        {
            // Best effort (e.g. EACCES on the directory): the fd must still be closed.
        }

        _handle.Dispose();
    }

    /// <summary>After a failed send/recv: true for EINTR (retry), false for EAGAIN (would block); throws otherwise.</summary>
    private static bool ShouldRetry(int errno, string call) => errno switch
    {
        Interop.Errno.EINTR => true,
        Interop.Errno.EAGAIN => false,
        Interop.Errno.EPIPE or Interop.Errno.ECONNRESET => throw new ShmipcException(
            ShmipcErrorCode.PeerClosed,
            $"{call} failed: {Interop.Errno.GetName(errno)}: the peer closed the connection."),
        _ => throw Interop.CreateException(errno, call),
    };

    private void WaitFor(short events, Deadline deadline, string what, int done, int total)
    {
        short revents = Poll.Wait(_handle, events, deadline);
        if (revents == 0)
        {
            throw new ShmipcException(
                ShmipcErrorCode.Timeout,
                string.Create(CultureInfo.InvariantCulture, $"The {what} timed out after {done} of {total} bytes."));
        }

        if ((revents & Interop.POLLNVAL) != 0)
        {
            Interop.Throw(Interop.Errno.EBADF, "poll");
        }

        // POLLERR/POLLHUP: the next send/recv reports the actual error or end of stream.
    }
}
