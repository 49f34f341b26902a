using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>sigbus-unguarded</c>: proves the SIGBUS guard passes faults outside its ranges on to the runtime. It installs the
/// guard (by mapping a guarded, unsealed memfd), then truncates a second, unguarded mapping and reads it: the runtime's
/// handler must still turn that into its fatal error, exactly as without the guard.
/// </summary>
internal static unsafe class SigbusUnguarded
{
    public static int Run()
    {
        using var guarded = SharedRegion.CreateMemFd("shmipc-guarded", 8192, seal: false);
        Console.WriteLine($"GUARD-INSTALLED {SigbusGuard.IsInstalled} {guarded.IsGuarded}");

        using var fd = new SafeFdHandle(Native.CheckIo(Native.Libc.memfd_create("shmipc-unguarded", Native.MFD_CLOEXEC), "memfd_create"), ownsHandle: true);
        Native.FTruncate(fd, 8192, "unguarded");
        using var mapping = Native.MapShared(fd, 8192, "unguarded");
        Native.FTruncate(fd, 0, "unguarded");
        Console.WriteLine("TOUCHING");
        Console.Out.Flush();
        var value = *(byte*)(mapping.DangerousGetHandle() + 4096);
        Console.WriteLine($"SURVIVED {value}");
        return 0;
    }
}
