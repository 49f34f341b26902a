namespace Shmipc.Channels.Interop;

internal sealed partial class SocketFd
{
    /// <summary>Linux's SCM_MAX_FD: the most fds one SCM_RIGHTS message may carry.</summary>
    public const int MaxFdsPerMessage = 253;

    /// <summary>
    /// Sends <paramref name="data"/> (at least one byte: a stream socket carries ancillary data only with
    /// data) with <paramref name="fds"/> in ONE sendmsg carrying one SOL_SOCKET/SCM_RIGHTS cmsghdr, control
    /// length CMSG_SPACE(4 * n) (24 for two fds). The fds ride with the first bytes; any rest of
    /// <paramref name="data"/> left by a short send follows with plain sends. The caller keeps the fds open.
    /// </summary>
    public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout) =>
        SendWithFds(data, fds, Deadline.FromTimeout(timeout));

    /// <summary>As <see cref="SendWithFds(ReadOnlySpan{byte}, ReadOnlySpan{int}, TimeSpan)"/>, with the fds kept alive (AddRef) during the send.</summary>
    public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<SafeFdHandle> fds, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fds.Length, MaxFdsPerMessage, nameof(fds));
        Span<int> raw = stackalloc int[fds.Length];
        int added = 0;
        try
        {
            for (; added < fds.Length; added++)
            {
                bool ok = false;
                fds[added].DangerousAddRef(ref ok);
                raw[added] = fds[added].Fd;
            }

            SendWithFds(data, raw, Deadline.FromTimeout(timeout));
        }
        finally
        {
            for (int i = 0; i < added; i++)
            {
                fds[i].DangerousRelease();
            }
        }
    }

    /// <summary>As <see cref="SendWithFds(ReadOnlySpan{byte}, ReadOnlySpan{int}, TimeSpan)"/>, bounded by <paramref name="deadline"/>.</summary>
    public unsafe void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, Deadline deadline)
    {
        ArgumentOutOfRangeException.ThrowIfZero(data.Length, nameof(data));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fds.Length, MaxFdsPerMessage, nameof(fds));

        int space = fds.IsEmpty ? 0 : Interop.CMSG_SPACE(fds.Length * sizeof(int));
        ulong* control = stackalloc ulong[(space + 7) / 8]; // 8-aligned, zeroed (SkipLocalsInit is off)
        if (space > 0)
        {
            var cmsg = (Interop.cmsghdr*)control;
            cmsg->cmsg_len = (nuint)Interop.CMSG_LEN(fds.Length * sizeof(int));
            cmsg->cmsg_level = Interop.SOL_SOCKET;
            cmsg->cmsg_type = Interop.SCM_RIGHTS;
            fds.CopyTo(new Span<int>((byte*)cmsg + Interop.CMSG_LEN(0), fds.Length));
        }

        nint sent;
        fixed (byte* p = data)
        {
            var iov = new Interop.iovec { iov_base = p, iov_len = (nuint)data.Length };
            var msg = new Interop.msghdr
            {
                msg_iov = &iov,
                msg_iovlen = 1,
                msg_control = space > 0 ? control : null,
                msg_controllen = (nuint)space,
            };

            while ((sent = Interop.Libc.sendmsg(_handle, &msg, Interop.MSG_NOSIGNAL | Interop.MSG_DONTWAIT)) < 0)
            {
                if (!ShouldRetry(Interop.LastErrno, "sendmsg(SCM_RIGHTS)"))
                {
                    WaitFor(Interop.POLLOUT, deadline, "send", 0, data.Length);
                }
            }
        }

        if (sent < data.Length)
        {
            SendAll(data[(int)sent..], deadline);
        }
    }

    /// <summary>
    /// One recvmsg (MSG_CMSG_CLOEXEC) into <paramref name="data"/> with a control buffer of
    /// CMSG_SPACE(4 * receivedFds.Length) bytes, waiting until <paramref name="timeout"/> for something to
    /// arrive. Returns the data bytes (0 = end of stream). <paramref name="controlLength"/> is the returned
    /// msg_controllen (shmipc-go insists on exactly 24); the SCM_RIGHTS fds go to
    /// <paramref name="receivedFds"/>[..fdCount] and now belong to the caller. Fds beyond the span are closed.
    /// </summary>
    public unsafe int ReceiveWithFds(Span<byte> data, Span<int> receivedFds, out int controlLength, out int fdCount, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfZero(data.Length, nameof(data));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(receivedFds.Length, MaxFdsPerMessage, nameof(receivedFds));
        Deadline deadline = Deadline.FromTimeout(timeout);

        int space = receivedFds.IsEmpty ? 0 : Interop.CMSG_SPACE(receivedFds.Length * sizeof(int));
        ulong* control = stackalloc ulong[(space + 7) / 8];
        nint received;
        Interop.msghdr msg;
        fixed (byte* p = data)
        {
            var iov = new Interop.iovec { iov_base = p, iov_len = (nuint)data.Length };
            while (true)
            {
                msg = new Interop.msghdr
                {
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = space > 0 ? control : null,
                    msg_controllen = (nuint)space,
                };
                received = Interop.Libc.recvmsg(_handle, &msg, Interop.MSG_CMSG_CLOEXEC | Interop.MSG_DONTWAIT);
                if (received >= 0)
                {
                    break;
                }

                if (!ShouldRetry(Interop.LastErrno, "recvmsg(SCM_RIGHTS)"))
                {
                    WaitFor(Interop.POLLIN, deadline, "receive", 0, data.Length);
                }
            }
        }

        controlLength = (int)msg.msg_controllen;
        fdCount = CollectFds((byte*)control, Math.Min(controlLength, space), receivedFds);
        return (int)received;
    }

    /// <summary>Walks the cmsghdrs; copies SCM_RIGHTS fds into <paramref name="fds"/> and closes any that do not fit.</summary>
    private static unsafe int CollectFds(byte* control, int length, Span<int> fds)
    {
        int count = 0;
        int header = Interop.CMSG_LEN(0);
        int offset = 0;
        while (offset + header <= length)
        {
            var cmsg = (Interop.cmsghdr*)(control + offset);
            int cmsgLen = (int)Math.Min(cmsg->cmsg_len, (nuint)int.MaxValue);
            if (cmsgLen < header || cmsgLen > length - offset)
            {
                break;
            }

            if (cmsg->cmsg_level == Interop.SOL_SOCKET && cmsg->cmsg_type == Interop.SCM_RIGHTS)
            {
                var data = new ReadOnlySpan<int>((byte*)cmsg + header, (cmsgLen - header) / sizeof(int));
                foreach (int fd in data)
                {
                    if (count < fds.Length)
                    {
                        fds[count++] = fd;
                    }
                    else
                    {
                        _ = Interop.Libc.close(fd);
                    }
                }
            }

            offset += Interop.CMSG_ALIGN(cmsgLen);
        }

        return count;
    }
}
