using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    // Design: fstat/lstat are done with statx(2) because struct statx has one layout on every
    // architecture, while struct stat differs between x64 (144 B, st_mode at 24) and arm64 (128 B, st_mode
    // at 16). statx needs glibc 2.28 and Linux 4.11.
    internal const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
    internal const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_INO = 0x100, STATX_SIZE = 0x200, STATX_BASIC_STATS = 0x7ff;
    internal const uint S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000;

    /// <summary>struct statx (256 bytes, architecture independent); only the fields used are declared.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct statx_t
    {
        [FieldOffset(0)] public uint stx_mask;
        [FieldOffset(20)] public uint stx_uid;
        [FieldOffset(28)] public ushort stx_mode;
        [FieldOffset(32)] public ulong stx_ino;
        [FieldOffset(40)] public ulong stx_size;
        [FieldOffset(48)] public ulong stx_blocks;
        [FieldOffset(136)] public uint stx_dev_major;
        [FieldOffset(140)] public uint stx_dev_minor;
    }

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial int statx(int dirfd, string path, int flags, uint mask, statx_t* buf);

        [LibraryImport(Libraries.Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial int fstatx(SafeFdHandle dirfd, string path, int flags, uint mask, statx_t* buf);
    }

    /// <summary>fstat(2) equivalent.</summary>
    internal static unsafe statx_t FStat(SafeFdHandle fd, string name)
    {
        statx_t st;
        CheckIo(Libc.fstatx(fd, string.Empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &st), $"fstat({name})");
        return st;
    }

    /// <summary>lstat(2) equivalent: false when the path does not exist; other errors throw.</summary>
    internal static unsafe bool TryLStat(string path, out statx_t st)
    {
        statx_t s;
        if (Libc.statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &s) < 0)
        {
            int errno = LastErrno;
            if (errno != Errno.ENOENT)
            {
                Throw(errno, $"lstat({path})");
            }

            st = default;
            return false;
        }

        st = s;
        return true;
    }
}
