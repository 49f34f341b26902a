using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>close(2). Never retried on EINTR: Linux has already released the fd by then.</summary>
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int close(int fd);

        /// <summary>fcntl(2) with an int argument. fcntl is variadic; an int in the third register is what
        /// both the x64 SysV and the Linux arm64 variadic conventions expect.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int fcntl_int(SafeFdHandle fd, int cmd, int arg);
    }

    internal const int F_DUPFD_CLOEXEC = 1030, F_GETFD = 1, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1;

    /// <summary>Duplicates <paramref name="fd"/> into a new close-on-exec fd owned by the returned handle.</summary>
    internal static SafeFdHandle Dup(SafeFdHandle fd)
    {
        int result;
        do
        {
            result = Libc.fcntl_int(fd, F_DUPFD_CLOEXEC, 0);
        }
        while (result < 0 && LastErrno == Errno.EINTR);

        return new SafeFdHandle(CheckIo(result, "fcntl(F_DUPFD_CLOEXEC)"), ownsHandle: true);
    }
}
