using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const uint EPOLLIN = 0x001, EPOLLPRI = 0x002, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010,
        EPOLLRDHUP = 0x2000, EPOLLEXCLUSIVE = 1u << 28, EPOLLONESHOT = 1u << 30, EPOLLET = 1u << 31;

    internal const int EPOLL_CLOEXEC = 0x80000, EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int epoll_create1(int flags);

        /// <summary>epoll_ctl(2); <paramref name="ev"/> points at the architecture's epoll_event.</summary>
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int epoll_ctl(SafeFdHandle epfd, int op, int fd, void* ev);

        /// <summary>epoll_wait(2); blocks, so no SuppressGCTransition.</summary>
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int epoll_wait(SafeFdHandle epfd, void* events, int maxevents, int timeout);
    }
}
