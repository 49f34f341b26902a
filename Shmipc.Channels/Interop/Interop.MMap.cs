using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const int PROT_READ = 0x1, PROT_WRITE = 0x2, MAP_SHARED = 0x01;

    /// <summary>madvise: allocate and map the pages writable as a write fault would, without writing (Linux 5.14+).</summary>
    internal const int MADV_POPULATE_WRITE = 23;

    /// <summary>mmap's error return, <c>(void*)-1</c>.</summary>
    internal static readonly nint MAP_FAILED = -1;

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial void* mmap(void* addr, nuint length, int prot, int flags, SafeFdHandle fd, long offset);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int munmap(void* addr, nuint length);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int madvise(void* addr, nuint length, int advice);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int ftruncate(SafeFdHandle fd, long length);

        /// <summary>fallocate(2) (glibc's Linux call, errno-style; not posix_fallocate).</summary>
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int fallocate(SafeFdHandle fd, int mode, long offset, long len);
    }

    /// <summary>ftruncate(2) with EINTR retried.</summary>
    internal static void FTruncate(SafeFdHandle fd, long length, string name)
    {
        int result;
        do
        {
            result = Libc.ftruncate(fd, length);
        }
        while (result < 0 && LastErrno == Errno.EINTR);

        CheckIo(result, $"ftruncate({name}, {length})");
    }

    /// <summary>Maps the whole object shared and read-write; throws on failure.</summary>
    internal static unsafe SafeMappingHandle MapShared(SafeFdHandle fd, long length, string name)
    {
        void* p = Libc.mmap(null, (nuint)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if ((nint)p == MAP_FAILED)
        {
            Throw(LastErrno, $"mmap({name}, {length})");
        }

        return new SafeMappingHandle((nint)p, (nuint)length);
    }

    /// <summary>
    /// Maps the whole object shared and read-only (PROT_READ): a write through the mapping faults instead of reaching
    /// the object. For observers such as the inspector, which must never change a region a session uses.
    /// </summary>
    internal static unsafe SafeMappingHandle MapReadOnly(SafeFdHandle fd, long length, string name)
    {
        void* p = Libc.mmap(null, (nuint)length, PROT_READ, MAP_SHARED, fd, 0);
        if ((nint)p == MAP_FAILED)
        {
            Throw(LastErrno, $"mmap({name}, {length}, PROT_READ)");
        }

        return new SafeMappingHandle((nint)p, (nuint)length);
    }
}
