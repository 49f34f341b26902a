using System.Globalization;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>What this process costs: CPU time and resident memory, as the kernel counts them.</summary>
internal static class ProcessStats
{
    /// <summary>
    /// CPU time of the live threads of this process so far, in microseconds, from each thread's schedstat (nanosecond
    /// precision; the utime/stime of /proc/self/stat count 10 ms ticks, too coarse for a 1 s window of an idle
    /// process). The runtime's background JIT thread (tier-1 recompilation of hot methods) is counted apart: it is the
    /// cost of having run the code, not of what the process is doing now.
    /// </summary>
    public static (long Threads, long Jit) CpuMicroseconds()
    {
        long ns = 0;
        long jit = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(task, "schedstat"));
                var value = long.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal))
                {
                    jit += value;
                }
                else
                {
                    ns += value;
                }
            }
            catch (IOException)
            {
                // The thread exited meanwhile.
            }
        }

        return (ns / 1000, jit / 1000);
    }

    /// <summary>Resident set size (VmRSS) in KiB.</summary>
    public static long ResidentKiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }
}
