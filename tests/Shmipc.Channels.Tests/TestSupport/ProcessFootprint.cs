namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// What this process holds of the shared-memory objects whose names contain a marker (a test's unique prefix): lines of
/// /proc/self/maps (memfd mappings show as <c>/memfd:shmipc/dev/shm/…</c>, file mappings by path) and open fds.
/// </summary>
internal readonly record struct ProcessFootprint(int Mappings, int Fds)
{
    public static ProcessFootprint Of(string prefix)
    {
        var marker = Path.GetFileName(prefix);
        var mappings = File.ReadLines("/proc/self/maps").Count(l => l.Contains(marker, StringComparison.Ordinal));
        var fds = OpenFds().Count(fd => fd.Target.Contains(marker, StringComparison.Ordinal));
        return new ProcessFootprint(mappings, fds);
    }

    /// <summary>This process's open fds (<c>/proc/self/fd/N</c>) with their link targets; fds closed while listed are skipped.</summary>
    public static IEnumerable<(string Fd, string Target)> OpenFds()
    {
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while we looked
            }

            if (target is not null)
            {
                yield return (fd, target);
            }
        }
    }

    public bool NotLargerThan(ProcessFootprint other) => Mappings <= other.Mappings && Fds <= other.Fds;
}
