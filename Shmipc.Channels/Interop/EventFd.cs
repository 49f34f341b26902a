namespace Shmipc.Channels.Interop;

/// <summary>A non-blocking, close-on-exec eventfd used to wake a reactor parked in epoll_wait.</summary>
internal sealed class EventFd : IDisposable
{
    private readonly SafeFdHandle _handle;

    private EventFd(SafeFdHandle handle) => _handle = handle;

    /// <summary>The owned fd.</summary>
    public SafeFdHandle Handle => _handle;

    /// <summary>The raw fd, for epoll registration.</summary>
    public int Fd => _handle.Fd;

    /// <summary>Creates an eventfd with EFD_CLOEXEC | EFD_NONBLOCK and a zero counter.</summary>
    public static EventFd Create()
    {
        Interop.EnsureSupported();
        int fd = Interop.Libc.eventfd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        return new EventFd(new SafeFdHandle(Interop.CheckIo(fd, "eventfd"), ownsHandle: true));
    }

    /// <summary>Adds 1 to the counter, making the fd readable. EAGAIN (counter saturated) means it is already signalled.</summary>
    public unsafe void Signal()
    {
        ulong one = 1;
        _ = Interop.Write(_handle, new ReadOnlySpan<byte>(&one, sizeof(ulong)), "write(eventfd)");
    }

    /// <summary>Reads and resets the counter. Returns false when it was already zero (EAGAIN).</summary>
    public unsafe bool Drain()
    {
        ulong value;
        return Interop.Read(_handle, new Span<byte>(&value, sizeof(ulong)), "read(eventfd)") > 0;
    }

    /// <summary>Closes the fd.</summary>
    public void Dispose() => _handle.Dispose();
}
