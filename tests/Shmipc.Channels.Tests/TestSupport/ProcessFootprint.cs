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
        var fds = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.Contains(marker, StringComparison.Ordinal))
                {
                    fds++;
                }
            }
            catch (IOException)
            {
                // Closed while we looked.
            }
        }

        return new ProcessFootprint(mappings, fds);
    }

    public bool NotLargerThan(ProcessFootprint other) => Mappings <= other.Mappings && Fds <= other.Fds;
}
