using System.Runtime.InteropServices;

#pragma warning disable CS8981 // Kernel spelling (iovec, msghdr, pollfd...) is intended in Interop/.

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const int SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    internal const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_ERROR = 4, SO_SNDTIMEO = 21;
    internal const int IPPROTO_TCP = 6, TCP_NODELAY = 1;
    internal const int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

    /// <summary>struct timeval (16 bytes on 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct timeval
    {
        public long tv_sec;
        public long tv_usec;
    }

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int socket(int domain, int type, int protocol);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int bind(SafeFdHandle fd, void* addr, uint addrlen);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int listen(SafeFdHandle fd, int backlog);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int connect(SafeFdHandle fd, void* addr, uint addrlen);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int accept4(SafeFdHandle fd, void* addr, uint* addrlen, int flags);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int getsockname(SafeFdHandle fd, void* addr, uint* addrlen);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int getsockopt(SafeFdHandle fd, int level, int optname, void* optval, uint* optlen);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int setsockopt(SafeFdHandle fd, int level, int optname, void* optval, uint optlen);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int shutdown(SafeFdHandle fd, int how);
    }
}
