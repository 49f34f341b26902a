using System.Diagnostics;
using System.Globalization;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// CPU time (user + system) and context switches of the harness process plus one server child, sampled around a cell,
/// so the table can show what a message costs in CPU (spinning included) and how often a thread had to sleep and be
/// woken for it. CPU resolution is the kernel's clock tick (10 ms): fine for 1-second cells.
/// </summary>
internal static class CpuMeter
{
    public static TimeSpan Sample(ServerProcess? server)
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime + (server?.CpuTime ?? TimeSpan.Zero);
    }

    /// <summary>
    /// Voluntary + involuntary context switches of every live thread of this process and of the child
    /// (/proc/PID/task/*/status); threads that exited meanwhile are not counted, which is fine for long-lived workers.
    /// </summary>
    public static long ContextSwitches(ServerProcess? server) => ContextSwitches(Environment.ProcessId) + (server is null ? 0 : ContextSwitches(server.Id));

    private static long ContextSwitches(int pid)
    {
        long total = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            total += long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim(), CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (IOException)
                {
                    // The thread exited while we looked.
                }
            }
        }
        catch (IOException)
        {
            // The process exited, or no /proc.
        }

        return total;
    }
}
