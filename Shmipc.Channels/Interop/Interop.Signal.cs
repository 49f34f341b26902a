using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Shmipc.Channels.Interop;

internal static partial class Interop
{
    internal const int SIGBUS = 7;
    internal const int SA_SIGINFO = 0x4, SA_RESTART = 0x10000000;
    internal const int PROT_EXEC = 0x4, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;

    /// <summary>
    /// glibc's <c>struct sigaction</c> on x86-64 (152 bytes): the handler (sa_handler / sa_sigaction), a 1024-bit
    /// sa_mask, int sa_flags plus 4 bytes of padding, sa_restorer. Only used on x64 (see <see cref="SigbusGuard"/>).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 152)]
    internal struct sigaction_x64
    {
        [FieldOffset(0)] public nint sa_handler;
        [FieldOffset(8)] public SigSet sa_mask;
        [FieldOffset(136)] public int sa_flags;
        [FieldOffset(144)] public nint sa_restorer;
    }

    /// <summary>glibc's 1024-bit sigset_t.</summary>
    [InlineArray(16)]
    internal struct SigSet
    {
        private ulong _word;
    }

    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "sigaction", SetLastError = true)]
        internal static unsafe partial int sigaction(int signum, sigaction_x64* act, sigaction_x64* oldact);

        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static unsafe partial void* mmap_anonymous(void* addr, nuint length, int prot, int flags, int fd, long offset);

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        internal static unsafe partial int mprotect(void* addr, nuint length, int prot);
    }

    /// <summary>A private, anonymous, zero-filled mapping of <paramref name="length"/> bytes; throws on failure.</summary>
    internal static unsafe byte* MapAnonymous(nuint length, int prot, string purpose)
    {
        void* p = Libc.mmap_anonymous(null, length, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if ((nint)p == MAP_FAILED)
        {
            Throw(LastErrno, $"mmap({purpose}, {length})");
        }

        return (byte*)p;
    }
}
