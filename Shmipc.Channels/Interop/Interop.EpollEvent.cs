using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    // Design: struct epoll_event is __attribute__((packed)) on x86-64 only (12 bytes, data at 4); every
    // other architecture, arm64 included, aligns the 64-bit data (16 bytes, data at 8). Both layouts are
    // declared and the one for the running process is chosen at run time (Tmds.LibC does the same with two
    // source files). Code never indexes arrays of these directly: it uses EpollEventSize.

    /// <summary>epoll_event as laid out on x64 (packed, 12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    internal struct epoll_event_packed
    {
        public uint events;
        public ulong data;
    }

    /// <summary>epoll_event as laid out on arm64 (natural alignment, 16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct epoll_event_aligned
    {
        public uint events;
        public ulong data;
    }

    /// <summary>sizeof(struct epoll_event) for the running architecture.</summary>
    internal static unsafe int EpollEventSize => IsArm64 ? sizeof(epoll_event_aligned) : sizeof(epoll_event_packed);
}
