using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shmipc.Channels.Interop;

/// <summary>Conversions between .NET addresses and the kernel sockaddr structs.</summary>
internal static class SocketAddresses
{
    /// <summary>sockaddr_un for a filesystem path (at most 107 UTF-8 bytes, no NUL).</summary>
    public static unsafe Interop.sockaddr_un Unix(string path, out uint length)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes >= Interop.UNIX_PATH_MAX || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ShmipcException(
                ShmipcErrorCode.InvalidConfiguration,
                $"The Unix socket path '{path}' is {bytes} bytes; the limit is {Interop.UNIX_PATH_MAX - 1} bytes without NUL characters.");
        }

        var addr = new Interop.sockaddr_un { sun_family = Interop.AF_UNIX };
        Encoding.UTF8.GetBytes(path, new Span<byte>(addr.sun_path, Interop.UNIX_PATH_MAX - 1));
        length = (uint)(sizeof(ushort) + bytes + 1);
        return addr;
    }

    /// <summary>Writes sockaddr_in or sockaddr_in6 for <paramref name="endPoint"/>; returns its length.</summary>
    public static unsafe uint FromEndPoint(IPEndPoint endPoint, Interop.sockaddr_storage* ss)
    {
        *ss = default;
        ushort port = BinaryPrimitives.ReverseEndianness((ushort)endPoint.Port); // network byte order (little-endian hosts only)
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            var sin = (Interop.sockaddr_in*)ss;
            sin->sin_family = Interop.AF_INET;
            sin->sin_port = port;
            endPoint.Address.TryWriteBytes(new Span<byte>(&sin->sin_addr, 4), out _);
            return (uint)sizeof(Interop.sockaddr_in);
        }

        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var sin6 = (Interop.sockaddr_in6*)ss;
            sin6->sin6_family = Interop.AF_INET6;
            sin6->sin6_port = port;
            endPoint.Address.TryWriteBytes(new Span<byte>(sin6->sin6_addr, 16), out _);
            sin6->sin6_scope_id = (uint)endPoint.Address.ScopeId;
            return (uint)sizeof(Interop.sockaddr_in6);
        }

        throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"Unsupported address family {endPoint.AddressFamily} for {endPoint}.");
    }

    /// <summary>Reads an AF_INET or AF_INET6 address.</summary>
    public static unsafe IPEndPoint ToEndPoint(Interop.sockaddr_storage* ss)
    {
        if (ss->ss_family == Interop.AF_INET)
        {
            var sin = (Interop.sockaddr_in*)ss;
            return new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(&sin->sin_addr, 4)), BinaryPrimitives.ReverseEndianness(sin->sin_port));
        }

        if (ss->ss_family == Interop.AF_INET6)
        {
            var sin6 = (Interop.sockaddr_in6*)ss;
            return new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(sin6->sin6_addr, 16), sin6->sin6_scope_id), BinaryPrimitives.ReverseEndianness(sin6->sin6_port));
        }

        throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"Unexpected address family {ss->ss_family}.");
    }
}
