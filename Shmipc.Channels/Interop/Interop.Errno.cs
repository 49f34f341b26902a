namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    /// <summary>errno values (asm-generic; identical on x64 and arm64).</summary>
    internal static class Errno
    {
        internal const int EPERM = 1, ENOENT = 2, EINTR = 4, EIO = 5, ENXIO = 6, EBADF = 9, EAGAIN = 11,
            ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20,
            EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ETXTBSY = 26, EFBIG = 27, ENOSPC = 28,
            ESPIPE = 29, EROFS = 30, EPIPE = 32, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40,
            EOVERFLOW = 75, ENOTSOCK = 88, EMSGSIZE = 90, EPROTONOSUPPORT = 93, EOPNOTSUPP = 95,
            EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99, ENETUNREACH = 101, ECONNABORTED = 103,
            ECONNRESET = 104, ENOBUFS = 105, EISCONN = 106, ENOTCONN = 107, ETIMEDOUT = 110,
            ECONNREFUSED = 111, EHOSTUNREACH = 113, EALREADY = 114, EINPROGRESS = 115, EDQUOT = 122;

        /// <summary>The symbolic name of <paramref name="errno"/>, or "errno N" for an uncommon one.</summary>
        internal static string GetName(int errno) => errno switch
        {
            EPERM => "EPERM", ENOENT => "ENOENT", EINTR => "EINTR", EIO => "EIO", ENXIO => "ENXIO",
            EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES", EFAULT => "EFAULT",
            EBUSY => "EBUSY", EEXIST => "EEXIST", EXDEV => "EXDEV", ENODEV => "ENODEV", ENOTDIR => "ENOTDIR",
            EISDIR => "EISDIR", EINVAL => "EINVAL", ENFILE => "ENFILE", EMFILE => "EMFILE", ETXTBSY => "ETXTBSY",
            EFBIG => "EFBIG", ENOSPC => "ENOSPC", ESPIPE => "ESPIPE", EROFS => "EROFS", EPIPE => "EPIPE",
            ENAMETOOLONG => "ENAMETOOLONG", ENOSYS => "ENOSYS", ENOTEMPTY => "ENOTEMPTY", ELOOP => "ELOOP",
            EOVERFLOW => "EOVERFLOW", ENOTSOCK => "ENOTSOCK", EMSGSIZE => "EMSGSIZE",
            EPROTONOSUPPORT => "EPROTONOSUPPORT", EOPNOTSUPP => "EOPNOTSUPP", EAFNOSUPPORT => "EAFNOSUPPORT",
            EADDRINUSE => "EADDRINUSE", EADDRNOTAVAIL => "EADDRNOTAVAIL", ENETUNREACH => "ENETUNREACH",
            ECONNABORTED => "ECONNABORTED", ECONNRESET => "ECONNRESET", ENOBUFS => "ENOBUFS",
            EISCONN => "EISCONN", ENOTCONN => "ENOTCONN", ETIMEDOUT => "ETIMEDOUT",
            ECONNREFUSED => "ECONNREFUSED", EHOSTUNREACH => "EHOSTUNREACH", EALREADY => "EALREADY",
            EINPROGRESS => "EINPROGRESS", EDQUOT => "EDQUOT",
            _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
