using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const ushort AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;

    /// <summary>Bytes available for a path in sockaddr_un, including the terminating NUL.</summary>
    internal const int UNIX_PATH_MAX = 108;

    /// <summary>struct sockaddr_un (110 bytes, sun_path at 2).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct sockaddr_un
    {
        public ushort sun_family;
        public fixed byte sun_path[UNIX_PATH_MAX];
    }

    /// <summary>struct sockaddr_in (16 bytes). Port and address are in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct sockaddr_in
    {
        public ushort sin_family;
        public ushort sin_port;
        public uint sin_addr;
        public fixed byte sin_zero[8];
    }

    /// <summary>struct sockaddr_in6 (28 bytes). Port is in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct sockaddr_in6
    {
        public ushort sin6_family;
        public ushort sin6_port;
        public uint sin6_flowinfo;
        public fixed byte sin6_addr[16];
        public uint sin6_scope_id;
    }

    /// <summary>struct sockaddr_storage (128 bytes, 8-aligned): room for any address.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    internal struct sockaddr_storage
    {
        public ushort ss_family;
        private readonly ushort _pad0;
        private readonly uint _pad1;
        private readonly ulong _align;
    }
}
