using System.Runtime.InteropServices;

#pragma warning disable CS8981 // Kernel spelling (ucred) is intended in Interop/.

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const int SO_PEERCRED = 17;

    /// <summary>struct ucred: what SO_PEERCRED reports about the process at the other end of a Unix socket.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ucred
    {
        public int pid;
        public uint uid;
        public uint gid;
    }

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc)]
        internal static partial uint geteuid();

        [LibraryImport(Libraries.Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int chmod(string path, uint mode);
    }
}
