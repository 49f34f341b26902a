using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80,
        O_TRUNC = 0x200, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;

    /// <summary>O_NOFOLLOW on x64 (octal 0400000).</summary>
    internal const int O_NOFOLLOW_X64 = 0x20000;

    /// <summary>O_NOFOLLOW on arm64 (octal 0100000; arm64 moves the directory flags).</summary>
    internal const int O_NOFOLLOW_ARM64 = 0x8000;

    /// <summary>O_NOFOLLOW for the running architecture.</summary>
    internal static int O_NOFOLLOW => IsArm64 ? O_NOFOLLOW_ARM64 : O_NOFOLLOW_X64;

    internal static partial class Libc
    {
        /// <summary>open(2). Variadic in C; the mode goes in the third integer register on x64 and arm64 alike.</summary>
        [LibraryImport(Libraries.Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int open(string path, int flags, uint mode);

        [LibraryImport(Libraries.Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int unlink(string path);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int fchmod(SafeFdHandle fd, uint mode);

        [LibraryImport(Libraries.Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int rename(string oldPath, string newPath);
    }

    /// <summary>open(2) with EINTR retried; throws with the path in the message.</summary>
    internal static SafeFdHandle Open(string path, int flags, uint mode)
    {
        int fd;
        do
        {
            fd = Libc.open(path, flags, mode);
        }
        while (fd < 0 && LastErrno == Errno.EINTR);

        if (fd < 0)
        {
            int errno = LastErrno;
            Throw(errno, $"open({path})", errno == Errno.ELOOP && (flags & O_NOFOLLOW) != 0 ? "the path is a symbolic link, which is refused" : null);
        }

        return new SafeFdHandle(fd, ownsHandle: true);
    }

    /// <summary>unlink(2): true when removed, false when it was already gone (ENOENT); other errors throw.</summary>
    internal static bool Unlink(string path)
    {
        if (Libc.unlink(path) == 0)
        {
            return true;
        }

        int errno = LastErrno;
        if (errno != Errno.ENOENT)
        {
            Throw(errno, $"unlink({path})");
        }

        return false;
    }
}
