using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    // fcntl(2) file sealing (Linux 3.17): only memfds created with MFD_ALLOW_SEALING accept new seals; every other
    // shmem file (and a memfd without that flag) reports F_SEAL_SEAL, other filesystems fail with EINVAL.
    internal const int F_ADD_SEALS = 1033, F_GET_SEALS = 1034;
    internal const int F_SEAL_SEAL = 0x1, F_SEAL_SHRINK = 0x2, F_SEAL_GROW = 0x4;

    /// <summary>fcntl(F_GET_SEALS): the seals of <paramref name="fd"/>, or 0 where the filesystem has no seals (EINVAL).</summary>
    internal static int GetSeals(SafeFdHandle fd, string name)
    {
        int result = Libc.fcntl_int(fd, F_GET_SEALS, 0);
        if (result < 0)
        {
            int errno = LastErrno;
            if (errno == Errno.EINVAL)
            {
                return 0;
            }

            Throw(errno, $"fcntl({name}, F_GET_SEALS)");
        }

        return result;
    }

    /// <summary>fcntl(F_ADD_SEALS); throws on failure.</summary>
    internal static void AddSeals(SafeFdHandle fd, int seals, string name) =>
        CheckIo(Libc.fcntl_int(fd, F_ADD_SEALS, seals), $"fcntl({name}, F_ADD_SEALS)");
}
