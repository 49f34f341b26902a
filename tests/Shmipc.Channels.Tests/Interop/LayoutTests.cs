using System.Runtime.InteropServices;
using Xunit;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Interop;

/// <summary>Struct sizes, offsets and constants against the Linux 64-bit C ABI (both architectures).</summary>
public unsafe class LayoutTests
{
    [Fact]
    public void EpollEvent_x64_is_packed_12_bytes()
    {
        Assert.Equal(12, sizeof(Native.epoll_event_packed));
        Assert.Equal(0, (int)Marshal.OffsetOf<Native.epoll_event_packed>(nameof(Native.epoll_event_packed.events)));
        Assert.Equal(4, (int)Marshal.OffsetOf<Native.epoll_event_packed>(nameof(Native.epoll_event_packed.data)));
    }

    [Fact]
    public void EpollEvent_arm64_is_aligned_16_bytes()
    {
        Assert.Equal(16, sizeof(Native.epoll_event_aligned));
        Assert.Equal(8, (int)Marshal.OffsetOf<Native.epoll_event_aligned>(nameof(Native.epoll_event_aligned.data)));
    }

    [Fact]
    public void EpollEventSize_matches_running_architecture()
    {
        int expected = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 16 : 12;
        Assert.Equal(expected, Native.EpollEventSize);
    }

    [Fact]
    public void Msghdr_iovec_cmsghdr_layouts()
    {
        Assert.Equal(56, sizeof(Native.msghdr));
        Assert.Equal(8, (int)Marshal.OffsetOf<Native.msghdr>(nameof(Native.msghdr.msg_namelen)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Native.msghdr>(nameof(Native.msghdr.msg_iov)));
        Assert.Equal(24, (int)Marshal.OffsetOf<Native.msghdr>(nameof(Native.msghdr.msg_iovlen)));
        Assert.Equal(32, (int)Marshal.OffsetOf<Native.msghdr>(nameof(Native.msghdr.msg_control)));
        Assert.Equal(40, (int)Marshal.OffsetOf<Native.msghdr>(nameof(Native.msghdr.msg_controllen)));
        Assert.Equal(48, (int)Marshal.OffsetOf<Native.msghdr>(nameof(Native.msghdr.msg_flags)));
        Assert.Equal(16, sizeof(Native.iovec));
        Assert.Equal(16, sizeof(Native.cmsghdr));
        Assert.Equal(8, (int)Marshal.OffsetOf<Native.cmsghdr>(nameof(Native.cmsghdr.cmsg_level)));
        Assert.Equal(12, (int)Marshal.OffsetOf<Native.cmsghdr>(nameof(Native.cmsghdr.cmsg_type)));
    }

    [Theory]
    [InlineData(0, 16, 16)]
    [InlineData(4, 20, 24)]
    [InlineData(8, 24, 24)]
    [InlineData(12, 28, 32)]
    public void Cmsg_macros(int dataLength, int len, int space)
    {
        Assert.Equal(len, Native.CMSG_LEN(dataLength));
        Assert.Equal(space, Native.CMSG_SPACE(dataLength));
    }

    [Fact]
    public void Sockaddr_layouts()
    {
        Assert.Equal(110, sizeof(Native.sockaddr_un));
        Assert.Equal(2, (int)Marshal.OffsetOf<Native.sockaddr_un>(nameof(Native.sockaddr_un.sun_path)));
        Assert.Equal(16, sizeof(Native.sockaddr_in));
        Assert.Equal(2, (int)Marshal.OffsetOf<Native.sockaddr_in>(nameof(Native.sockaddr_in.sin_port)));
        Assert.Equal(4, (int)Marshal.OffsetOf<Native.sockaddr_in>(nameof(Native.sockaddr_in.sin_addr)));
        Assert.Equal(28, sizeof(Native.sockaddr_in6));
        Assert.Equal(8, (int)Marshal.OffsetOf<Native.sockaddr_in6>(nameof(Native.sockaddr_in6.sin6_addr)));
        Assert.Equal(24, (int)Marshal.OffsetOf<Native.sockaddr_in6>(nameof(Native.sockaddr_in6.sin6_scope_id)));
        Assert.Equal(128, sizeof(Native.sockaddr_storage));
    }

    [Fact]
    public void Pollfd_timeval_statx_layouts()
    {
        Assert.Equal(8, sizeof(Native.pollfd));
        Assert.Equal(6, (int)Marshal.OffsetOf<Native.pollfd>(nameof(Native.pollfd.revents)));
        Assert.Equal(16, sizeof(Native.timeval));
        Assert.Equal(256, sizeof(Native.statx_t));
        Assert.Equal(28, (int)Marshal.OffsetOf<Native.statx_t>(nameof(Native.statx_t.stx_mode)));
        Assert.Equal(32, (int)Marshal.OffsetOf<Native.statx_t>(nameof(Native.statx_t.stx_ino)));
        Assert.Equal(40, (int)Marshal.OffsetOf<Native.statx_t>(nameof(Native.statx_t.stx_size)));
    }

    [Fact]
    public void Constants_match_linux_headers()
    {
        Assert.Equal(1u, Native.EPOLLIN);
        Assert.Equal(4u, Native.EPOLLOUT);
        Assert.Equal(8u, Native.EPOLLERR);
        Assert.Equal(0x10u, Native.EPOLLHUP);
        Assert.Equal(0x2000u, Native.EPOLLRDHUP);
        Assert.Equal(0x80000000u, Native.EPOLLET);
        Assert.Equal(0x80000, Native.EPOLL_CLOEXEC);
        Assert.Equal(1, Native.SOL_SOCKET);
        Assert.Equal(1, Native.SCM_RIGHTS);
        Assert.Equal(1u, Native.MFD_CLOEXEC);
        Assert.Equal(0x40, Native.O_CREAT);
        Assert.Equal(0x80, Native.O_EXCL);
        Assert.Equal(2, Native.O_RDWR);
        Assert.Equal(0x80000, Native.O_CLOEXEC);
        Assert.Equal(0x20000, Native.O_NOFOLLOW_X64);
        Assert.Equal(0x8000, Native.O_NOFOLLOW_ARM64);
        Assert.Equal(0x80000, Native.EFD_CLOEXEC);
        Assert.Equal(0x800, Native.EFD_NONBLOCK);
        Assert.Equal(0x80000, Native.SOCK_CLOEXEC);
        Assert.Equal(0x800, Native.SOCK_NONBLOCK);
        Assert.Equal(0x4000, Native.MSG_NOSIGNAL);
        Assert.Equal(0x40, Native.MSG_DONTWAIT);
        Assert.Equal(0x40000000, Native.MSG_CMSG_CLOEXEC);
        Assert.Equal((ushort)1, Native.AF_UNIX);
        Assert.Equal((ushort)2, Native.AF_INET);
        Assert.Equal((ushort)10, Native.AF_INET6);
        Assert.Equal(11, Native.Errno.EAGAIN);
        Assert.Equal(115, Native.Errno.EINPROGRESS);
    }
}
