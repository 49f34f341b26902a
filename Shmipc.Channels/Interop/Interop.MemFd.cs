using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const uint MFD_CLOEXEC = 0x0001, MFD_ALLOW_SEALING = 0x0002;

    /// <summary>Linux caps memfd names at 249 bytes (NAME_MAX 255 minus the "memfd:" prefix).</summary>
    internal const int MFD_NAME_MAX_LEN = 249;

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int memfd_create(string name, uint flags);
    }
}
