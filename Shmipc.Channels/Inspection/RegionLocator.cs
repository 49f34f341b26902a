using System.Globalization;

namespace Shmipc.Channels.Inspection;

/// <summary>Finds the shmipc objects a process has open or mapped, from <c>/proc/&lt;pid&gt;/fd</c> and <c>/proc/&lt;pid&gt;/maps</c>.</summary>
/// <remarks>
/// A memfd is reached through the descriptor that keeps it (<c>/proc/&lt;pid&gt;/fd/&lt;n&gt;</c>); a /dev/shm file through
/// its path. A memfd that is mapped but whose descriptor is closed can only be reached through
/// <c>/proc/&lt;pid&gt;/map_files</c>, which the kernel opens to privileged users only. Candidates are memfds named
/// <c>shmipc…</c> (shmipc's memfd prefix) and /dev/shm files named <c>…_buffer</c> or <c>…_queue_&lt;n&gt;</c>;
/// <see cref="RegionInspector.Inspect"/> drops duplicates (the same inode through several paths).
/// </remarks>
internal static class RegionLocator
{
    private const string MemFdPrefix = "/memfd:shmipc";
    private const string DevShm = "/dev/shm/";

    /// <summary>The shmipc objects of process <paramref name="pid"/>, descriptors first, then mappings.</summary>
    /// <exception cref="ShmipcException">The process does not exist or its /proc entries cannot be read.</exception>
    public static IReadOnlyList<RegionTarget> FindByProcess(int pid)
    {
        string proc = string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}");
        if (!Directory.Exists(proc))
        {
            throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"no process {pid} ({proc} does not exist).");
        }

        var targets = new List<RegionTarget>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (string fd in Directory.EnumerateFiles(proc + "/fd").Order(StringComparer.Ordinal))
            {
                string? link = ReadLink(fd);
                if (link is not null && IsCandidate(link))
                {
                    names.Add(link);
                    targets.Add(new RegionTarget(fd, link));
                }
            }

            foreach (string line in File.ReadLines(proc + "/maps"))
            {
                // address perms offset dev inode path — the path (column 6) may contain spaces.
                string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 6)
                {
                    continue;
                }

                string path = parts[5];
                if (!IsCandidate(path) || !names.Add(path))
                {
                    continue;
                }

                string clean = RegionInspector.CleanName(path);
                string open = path.StartsWith(DevShm, StringComparison.Ordinal) && File.Exists(clean)
                    ? clean
                    : string.Create(CultureInfo.InvariantCulture, $"{proc}/map_files/{parts[0]}");
                targets.Add(new RegionTarget(open, path));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, $"cannot read {proc}: {e.Message}", e);
        }

        return targets;
    }

    /// <summary>
    /// A target for a path given on the command line: its name is the link target for <c>/proc/…/fd/…</c> paths
    /// (the memfd's name) and the path itself otherwise.
    /// </summary>
    public static RegionTarget ForPath(string path, RegionKind? kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string name = path.StartsWith("/proc/", StringComparison.Ordinal) ? ReadLink(path) ?? path : path;
        return new RegionTarget(path, name, kind);
    }

    private static bool IsCandidate(string name)
    {
        if (name.StartsWith(MemFdPrefix, StringComparison.Ordinal))
        {
            return true;
        }

        return name.StartsWith(DevShm, StringComparison.Ordinal) && RegionInspector.KindFromName(name) is not null;
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the descriptor was closed meanwhile, or is not ours to read
        }
    }
}
