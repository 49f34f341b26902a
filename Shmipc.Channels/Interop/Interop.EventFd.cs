using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const int EFD_SEMAPHORE = 0x1, EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static partial int eventfd(uint initval, int flags);
    }
}
