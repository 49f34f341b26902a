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
    /// Open fds of the kinds a session opens (sockets, eventfds, memfds, /dev/shm files); 0 when the process is gone.
    /// Pipes and plain files are left out: the runtime opens some on first use of a feature (a console stream, the
    /// process starter) and keeps them, which would read as growth.
    /// </summary>
    public static int OpenFds(int pid) => FdTargets(pid).Count;

    /// <summary>The link targets of the fds <see cref="OpenFds"/> counts (what each fd is), for naming what grew.</summary>
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
                    if (IsSessionKind(target))
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

    private static bool IsSessionKind(string target) =>
        target.StartsWith("socket:", StringComparison.Ordinal)
        || target.StartsWith("anon_inode:[eventfd]", StringComparison.Ordinal)
        || target.StartsWith("/memfd:", StringComparison.Ordinal)
        || target.StartsWith("/dev/shm/", StringComparison.Ordinal);
}
