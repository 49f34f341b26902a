using System.Globalization;

namespace Shmipc.Channels.Benchmarks.Soak;

/// <summary>Resident memory and open fds of a process (this one or the server child), read from /proc.</summary>
internal static class ProcessProbe
{
    /// <summary>VmRSS in KiB; 0 when the process is gone.</summary>
    public static long ResidentKiB(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>
    /// Open fds but pipes; 0 when the process is gone. Shmipc opens no pipes, while the runtime opens some on first use
    /// of a feature and keeps them, which would read as growth.
    /// </summary>
    public static int OpenFds(int pid) => FdTargets(pid).Count;

    /// <summary>The link targets of /proc/pid/fd (what each fd is), pipes left out as in <see cref="OpenFds"/>.</summary>
    public static List<string> FdTargets(int pid)
    {
        var targets = new List<string>();
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                try
                {
                    var target = new FileInfo(fd).LinkTarget ?? "?";
                    if (!target.StartsWith("pipe:", StringComparison.Ordinal))
                    {
                        targets.Add(target);
                    }
                }
                catch (IOException)
                {
                }
            }
        }
        catch (IOException)
        {
        }

        return targets;
    }
}
