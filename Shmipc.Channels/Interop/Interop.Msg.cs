using System.Runtime.InteropServices;

#pragma warning disable CS8981 // Kernel spelling (iovec, msghdr, pollfd...) is intended in Interop/.

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const int MSG_PEEK = 0x2, MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40,
        MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;

    internal const int SCM_RIGHTS = 1;

    /// <summary>struct iovec (16 bytes on 64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    /// <summary>struct msghdr (56 bytes on 64-bit Linux; glibc pads msg_namelen and msg_flags).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    /// <summary>struct cmsghdr header (16 bytes on 64-bit); the data follows at CMSG_LEN(0).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    /// <summary>CMSG_ALIGN: control data is aligned to sizeof(size_t).</summary>
    internal static int CMSG_ALIGN(int len) => (len + (IntPtr.Size - 1)) & ~(IntPtr.Size - 1);

    /// <summary>CMSG_LEN: cmsg_len for <paramref name="dataLength"/> bytes of data.</summary>
    internal static unsafe int CMSG_LEN(int dataLength) => CMSG_ALIGN(sizeof(cmsghdr)) + dataLength;

    /// <summary>CMSG_SPACE: control-buffer bytes for <paramref name="dataLength"/> bytes of data.</summary>
    internal static unsafe int CMSG_SPACE(int dataLength) => CMSG_ALIGN(sizeof(cmsghdr)) + CMSG_ALIGN(dataLength);

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial nint send(SafeFdHandle fd, void* buf, nuint len, int flags);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial nint recv(SafeFdHandle fd, void* buf, nuint len, int flags);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial nint sendmsg(SafeFdHandle fd, msghdr* msg, int flags);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial nint recvmsg(SafeFdHandle fd, msghdr* msg, int flags);
    }
}
