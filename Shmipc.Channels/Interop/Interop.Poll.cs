using System.Runtime.InteropServices;

#pragma warning disable CS8981 // Kernel spelling (iovec, msghdr, pollfd...) is intended in Interop/.

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const short POLLIN = 0x001, POLLPRI = 0x002, POLLOUT = 0x004, POLLERR = 0x008, POLLHUP = 0x010,
        POLLNVAL = 0x020, POLLRDHUP = 0x2000;

    /// <summary>struct pollfd (8 bytes on every Linux ABI).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int poll(pollfd* fds, nuint nfds, int timeout);
    }
}
