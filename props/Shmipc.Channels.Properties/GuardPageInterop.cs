using System.Runtime.InteropServices;

namespace Shmipc.Channels.Properties;

/// <summary>mmap/mprotect/munmap for <see cref="NativeBuffer.WithGuardPage"/> (Linux constants, same on x64 and arm64).</summary>
internal static unsafe partial class GuardPageInterop
{
    public const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(void* addr, nuint length, int prot);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(void* addr, nuint length);
}
