using System.Globalization;
using System.Text;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// A snapshot of what sessions hold in this process: the fds a session opens (sockets, eventfds, memfds, /dev/shm
/// files; as a multiset of their <c>/proc/self/fd</c> link targets) and the shared-memory lines of
/// <c>/proc/self/maps</c> (memfd and /dev/shm mappings of shmipc regions, by path). Comparing a later snapshot with an
/// earlier one names every such resource opened in between and not closed.
/// </summary>
/// <remarks>
/// Pipes, epoll instances and plain files are left out: the runtime opens some once and keeps them (the socket
/// engine, signal handling, the process starter), so they say nothing about a session. The counts are process-wide, so
/// a comparison only means something while no other test runs (the cross-process collection runs alone).
/// </remarks>
internal sealed class SessionResources
{
    private SessionResources(Dictionary<string, int> fds, Dictionary<string, int> mappings)
    {
        Fds = fds;
        Mappings = mappings;
    }

    /// <summary>Tracked fds by link target (<c>socket:[inode]</c>, <c>anon_inode:[eventfd]</c>, <c>/memfd:…</c>, <c>/dev/shm/…</c>), with counts.</summary>
    public IReadOnlyDictionary<string, int> Fds { get; }

    /// <summary>Lines of /proc/self/maps of shmipc shared memory by path (memfd names and /dev/shm files), with counts.</summary>
    public IReadOnlyDictionary<string, int> Mappings { get; }

    /// <summary>All tracked fds.</summary>
    public int FdCount => Fds.Values.Sum();

    /// <summary>All shmipc mapping lines.</summary>
    public int MappingCount => Mappings.Values.Sum();

    public static SessionResources Capture()
    {
        var fds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, target) in ProcessFootprint.OpenFds().Where(fd => IsTrackedFd(fd.Target)))
        {
            fds[target] = fds.GetValueOrDefault(target) + 1;
        }

        var mappings = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            // address perms offset dev inode path: the path starts after the fifth field.
            var path = PathOf(line);
            if (path is not null && path.Contains("shmipc", StringComparison.Ordinal))
            {
                mappings[path] = mappings.GetValueOrDefault(path) + 1;
            }
        }

        return new SessionResources(fds, mappings);
    }

    /// <summary>
    /// What this snapshot holds beyond <paramref name="baseline"/> plus <paramref name="allowed"/> (resources that
    /// may stay, such as the sessions a fixture shares between tests); empty when nothing was left open.
    /// </summary>
    public string[] Leaks(SessionResources baseline, SessionResources? allowed = null)
    {
        var leaks = new List<string>();
        Compare(Fds, baseline.Fds, allowed?.Fds, "fd", leaks);
        Compare(Mappings, baseline.Mappings, allowed?.Mappings, "mapping", leaks);
        return [.. leaks];
    }

    /// <summary>The resources of <paramref name="after"/> beyond <paramref name="before"/>, as a snapshot (for allowances).</summary>
    public static SessionResources Difference(SessionResources after, SessionResources before) =>
        new(Subtract(after.Fds, before.Fds), Subtract(after.Mappings, before.Mappings));

    /// <summary>This snapshot with <paramref name="other"/> added (allowances accumulate).</summary>
    public SessionResources Plus(SessionResources other) => new(Add(Fds, other.Fds), Add(Mappings, other.Mappings));

    /// <summary>An empty snapshot.</summary>
    public static SessionResources None { get; } = new(new(StringComparer.Ordinal), new(StringComparer.Ordinal));

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>: sessions close asynchronously) until nothing beyond
    /// <paramref name="baseline"/> and <paramref name="allowed"/> is held; returns the leaks still there, or an empty array.
    /// </summary>
    public static async Task<string[]> WaitForReleaseAsync(SessionResources baseline, SessionResources? allowed, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var leaks = Capture().Leaks(baseline, allowed);
            if (leaks.Length == 0 || DateTime.UtcNow > until)
            {
                return leaks;
            }

            await Task.Delay(20);
        }
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{FdCount} session fds, {MappingCount} shmipc mapping lines");

    private static bool IsTrackedFd(string target) =>
        target.StartsWith("socket:", StringComparison.Ordinal)
        || target.StartsWith("anon_inode:[eventfd]", StringComparison.Ordinal)
        || target.StartsWith("/memfd:", StringComparison.Ordinal)
        || target.StartsWith("/dev/shm/", StringComparison.Ordinal);

    private static string? PathOf(string line)
    {
        var fields = 0;
        var i = 0;
        while (i < line.Length && fields < 5)
        {
            while (i < line.Length && line[i] != ' ')
            {
                i++;
            }

            while (i < line.Length && line[i] == ' ')
            {
                i++;
            }

            fields++;
        }

        return i < line.Length ? line[i..] : null;
    }

    private static void Compare(IReadOnlyDictionary<string, int> now, IReadOnlyDictionary<string, int> before, IReadOnlyDictionary<string, int>? allowed, string kind, List<string> leaks)
    {
        foreach (var (key, count) in now)
        {
            var extra = count - before.GetValueOrDefault(key) - (allowed?.GetValueOrDefault(key) ?? 0);
            if (extra > 0)
            {
                leaks.Add(string.Create(CultureInfo.InvariantCulture, $"{extra} {kind}{(extra > 1 ? "s" : "")} {key}"));
            }
        }
    }

    private static Dictionary<string, int> Subtract(IReadOnlyDictionary<string, int> a, IReadOnlyDictionary<string, int> b)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (key, count) in a)
        {
            var extra = count - b.GetValueOrDefault(key);
            if (extra > 0)
            {
                result[key] = extra;
            }
        }

        return result;
    }

    private static Dictionary<string, int> Add(IReadOnlyDictionary<string, int> a, IReadOnlyDictionary<string, int> b)
    {
        var result = new Dictionary<string, int>(a, StringComparer.Ordinal);
        foreach (var (key, count) in b)
        {
            result[key] = result.GetValueOrDefault(key) + count;
        }

        return result;
    }

    /// <summary>A leak list as one message.</summary>
    public static string Describe(string[] leaks)
    {
        var text = new StringBuilder();
        foreach (var leak in leaks)
        {
            text.Append("\n  ").Append(leak);
        }

        return text.ToString();
    }
}
