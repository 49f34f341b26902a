namespace Shmipc.Channels.Interop;

/// <summary>An epoll instance with a fixed, reusable event buffer.</summary>
/// <remarks>
/// Add/Modify/Remove may be called from any thread. <see cref="Wait"/> is meant for one reactor thread at
/// a time: it reuses one event buffer.
/// </remarks>
internal sealed unsafe class EpollHandle : IDisposable
{
    /// <summary>Readable.</summary>
    public const uint EPOLLIN = Interop.EPOLLIN;

    /// <summary>Writable.</summary>
    public const uint EPOLLOUT = Interop.EPOLLOUT;

    /// <summary>Error condition (always reported).</summary>
    public const uint EPOLLERR = Interop.EPOLLERR;

    /// <summary>Hang-up (always reported).</summary>
    public const uint EPOLLHUP = Interop.EPOLLHUP;

    /// <summary>Peer closed its writing half.</summary>
    public const uint EPOLLRDHUP = Interop.EPOLLRDHUP;

    /// <summary>Edge-triggered.</summary>
    public const uint EPOLLET = Interop.EPOLLET;

    // Design: the native event buffer is a pinned array on the pinned object heap rather than
    // NativeMemory: Dispose racing a Wait can then never free memory the kernel is still writing into,
    // and Wait allocates nothing. Its element layout is the architecture's epoll_event.
    private readonly SafeFdHandle _epfd;
    private readonly byte[] _buffer;
    private readonly int _capacity;

    private EpollHandle(SafeFdHandle epfd, int capacity)
    {
        _epfd = epfd;
        _capacity = capacity;
        _buffer = GC.AllocateArray<byte>(capacity * Interop.EpollEventSize, pinned: true);
    }

    /// <summary>The owned epoll fd.</summary>
    public SafeFdHandle Handle => _epfd;

    /// <summary>The largest number of events one <see cref="Wait"/> returns.</summary>
    public int Capacity => _capacity;

    /// <summary>Creates an epoll instance (EPOLL_CLOEXEC) whose Wait returns up to <paramref name="maxEvents"/> events.</summary>
    public static EpollHandle Create(int maxEvents = 256)
    {
        Interop.EnsureSupported();
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        int fd = Interop.CheckIo(Interop.Libc.epoll_create1(Interop.EPOLL_CLOEXEC), "epoll_create1");
        return new EpollHandle(new SafeFdHandle(fd, ownsHandle: true), maxEvents);
    }

    /// <summary>Registers <paramref name="fd"/> for <paramref name="events"/> with cookie <paramref name="data"/>.</summary>
    public void Add(int fd, uint events, ulong data) => Control(Interop.EPOLL_CTL_ADD, fd, events, data, "epoll_ctl(ADD)");

    /// <summary>Changes the events and cookie of a registered fd.</summary>
    public void Modify(int fd, uint events, ulong data) => Control(Interop.EPOLL_CTL_MOD, fd, events, data, "epoll_ctl(MOD)");

    /// <summary>Unregisters <paramref name="fd"/>. An fd that is already gone (ENOENT, EBADF: closing removes it) is ignored.</summary>
    public void Remove(int fd)
    {
        int result = Ctl(Interop.EPOLL_CTL_DEL, fd, 0, 0);
        if (result < 0)
        {
            int errno = Interop.LastErrno;
            if (errno is not (Interop.Errno.ENOENT or Interop.Errno.EBADF))
            {
                Interop.Throw(errno, $"epoll_ctl(DEL, {fd})");
            }
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1 = forever, 0 = poll) and fills <paramref name="events"/>
    /// with at most min(events.Length, Capacity) ready events. Returns how many; 0 on timeout.
    /// EINTR is retried with the time left.
    /// </summary>
    public int Wait(Span<EpollEventData> events, int timeoutMs)
    {
        int max = Math.Min(events.Length, _capacity);
        ArgumentOutOfRangeException.ThrowIfZero(max, nameof(events));
        Deadline deadline = timeoutMs < 0 ? Deadline.Infinite : Deadline.FromTimeout(TimeSpan.FromMilliseconds(timeoutMs));
        fixed (byte* buffer = _buffer)
        {
            int n;
            while ((n = Interop.Libc.epoll_wait(_epfd, buffer, max, timeoutMs < 0 ? -1 : deadline.RemainingMilliseconds)) < 0)
            {
                int errno = Interop.LastErrno;
                if (errno != Interop.Errno.EINTR)
                {
                    Interop.Throw(errno, "epoll_wait");
                }

                if (deadline.HasExpired)
                {
                    return 0;
                }
            }

            for (int i = 0; i < n; i++)
            {
                events[i] = Interop.IsArm64
                    ? new EpollEventData(((Interop.epoll_event_aligned*)buffer)[i].events, ((Interop.epoll_event_aligned*)buffer)[i].data)
                    : new EpollEventData(((Interop.epoll_event_packed*)buffer)[i].events, ((Interop.epoll_event_packed*)buffer)[i].data);
            }

            return n;
        }
    }

    /// <summary>Closes the epoll fd.</summary>
    public void Dispose() => _epfd.Dispose();

    private void Control(int op, int fd, uint events, ulong data, string call)
    {
        if (Ctl(op, fd, events, data) < 0)
        {
            Interop.Throw(Interop.LastErrno, $"{call} fd {fd}");
        }
    }

    private int Ctl(int op, int fd, uint events, ulong data)
    {
        if (Interop.IsArm64)
        {
            var ev = new Interop.epoll_event_aligned { events = events, data = data };
            return Interop.Libc.epoll_ctl(_epfd, op, fd, &ev);
        }
        else
        {
            var ev = new Interop.epoll_event_packed { events = events, data = data };
            return Interop.Libc.epoll_ctl(_epfd, op, fd, &ev);
        }
    }
}
