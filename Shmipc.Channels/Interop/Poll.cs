namespace Shmipc.Channels.Interop;

/// <summary>poll(2) on one fd, bounded by a <see cref="Deadline"/>; the wait behind the blocking socket helpers.</summary>
internal static class Poll
{
    /// <summary>
    /// Waits until <paramref name="fd"/> reports one of <paramref name="events"/> (or POLLERR/POLLHUP/POLLNVAL)
    /// or the deadline passes. Returns the revents, or 0 on timeout. EINTR is retried with the time left.
    /// </summary>
    public static unsafe short Wait(SafeFdHandle fd, short events, Deadline deadline)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var pfd = new Interop.pollfd { fd = fd.Fd, events = events };
            while (true)
            {
                int result = Interop.Libc.poll(&pfd, 1, deadline.RemainingMilliseconds);
                if (result > 0)
                {
                    return pfd.revents;
                }

                if (result == 0)
                {
                    if (deadline.HasExpired)
                    {
                        return 0;
                    }

                    continue;
                }

                int errno = Interop.LastErrno;
                if (errno != Interop.Errno.EINTR)
                {
                    Interop.Throw(errno, "poll");
                }
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }
}
