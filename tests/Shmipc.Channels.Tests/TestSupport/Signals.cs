using System.Runtime.InteropServices;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>Signals for peer processes the tests started (SIGSTOP: a peer that is alive but no longer runs).</summary>
internal static partial class Signals
{
    private const int SigStop = 19;

    /// <summary>Stops process <paramref name="pid"/> (SIGSTOP); SIGKILL still ends it.</summary>
    public static void Stop(int pid)
    {
        if (kill(pid, SigStop) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, SIGSTOP) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
