using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial nint read(SafeFdHandle fd, byte* buf, nuint count);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial nint write(SafeFdHandle fd, byte* buf, nuint count);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial nint pwrite(SafeFdHandle fd, byte* buf, nuint count, long offset);
    }

    /// <summary>read(2): bytes read (0 at EOF), or -1 on EAGAIN; EINTR retried; other errors throw.</summary>
    internal static unsafe int Read(SafeFdHandle fd, Span<byte> buffer, string call)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.read(fd, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = LastErrno;
                if (errno == Errno.EAGAIN)
                {
                    return -1;
                }

                if (errno != Errno.EINTR)
                {
                    Throw(errno, call);
                }
            }
        }
    }

    /// <summary>write(2): bytes written, or -1 on EAGAIN; EINTR retried; other errors throw.</summary>
    internal static unsafe int Write(SafeFdHandle fd, ReadOnlySpan<byte> buffer, string call)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.write(fd, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = LastErrno;
                if (errno == Errno.EAGAIN)
                {
                    return -1;
                }

                if (errno != Errno.EINTR)
                {
                    Throw(errno, call);
                }
            }
        }
    }
}
