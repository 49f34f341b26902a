using System.Collections.Concurrent;
using System.Globalization;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// The leak check of one in-process session test: the test names its shared memory through <see cref="Prefix"/> /
/// <see cref="Options"/> and hands every session it creates to <see cref="Track"/>; <see cref="VerifyAsync"/> (from the
/// test class's <c>IAsyncLifetime.DisposeAsync</c>, so a leak fails the test that caused it) closes those sessions and
/// then fails unless every slice of each session's region was back on the free lists when the region was unmapped (or
/// still in a queue element nobody took before the close, which leaves with the region), no
/// lease was leaked beyond what the test declared, and no fd, mapping or /dev/shm file with one of the test's names is
/// left.
/// </summary>
/// <remarks>
/// In-process tests run in parallel with other test classes, so process-wide fd counts (<see cref="SessionResources"/>)
/// mean nothing here; every check is scoped to this test's names instead. A memfd appears in <c>/proc/self/fd</c> and
/// <c>/proc/self/maps</c> as <c>/memfd:shmipc&lt;prefix&gt;…</c>, a file as <c>/dev/shm/&lt;name&gt;…</c>; both contain the
/// prefix's file name, which carries a fresh GUID. Sockets and eventfds have no name and are not covered.
/// </remarks>
// Design: Track and Prefix may be called from several tasks of a test (ConcurrentBag); VerifyAsync runs once, after
// the test body, on no synchronisation context.
internal sealed class SessionAccounting
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly ConcurrentBag<string> _prefixes = [];
    private readonly ConcurrentBag<ShmipcSession> _sessions = [];
    private long _expectedLeakedLeases;

    /// <summary>A fresh /dev/shm prefix whose objects the check looks for.</summary>
    public string Prefix()
    {
        var prefix = $"/dev/shm/shmipc_test_{Guid.NewGuid():N}";
        _prefixes.Add(prefix);
        return prefix;
    }

    /// <summary><paramref name="options"/> with a fresh checked prefix (see <see cref="Prefix"/>).</summary>
    public ShmipcClientOptions Options(ShmipcClientOptions options)
    {
        options.PathPrefix = Prefix();
        return options;
    }

    /// <summary>A session of the test (client or accepted): closed by the check, its slices counted at unmap.</summary>
    public ShmipcSession Track(ShmipcSession session)
    {
        _sessions.Add(session);
        return session;
    }

    /// <summary>The test deliberately drops <paramref name="leases"/> leases undisposed; the library reclaims their slices.</summary>
    public void ExpectLeakedLeases(long leases) => Interlocked.Add(ref _expectedLeakedLeases, leases);

    /// <summary>Closes the tracked sessions and checks (see the class); throws, failing the test, on a leak.</summary>
    public async Task VerifyAsync()
    {
        await Task.Run(VerifyCoreAsync);
    }

    private async Task VerifyCoreAsync()
    {
        foreach (var session in _sessions)
        {
            await session.DisposeAsync();
        }

        var problems = new List<string>();
        var deadline = DateTime.UtcNow + Timeout;

        // Slices: a region is unmapped with its last reference (session and leases). Both sides of an in-process
        // pair map the same memory under the same session name; the later unmap sees the final free lists.
        var sessions = _sessions.ToArray();
        var expectLeaks = Interlocked.Read(ref _expectedLeakedLeases) > 0;
        var collectAfter = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (sessions.Any(s => s.Engine.Buffer.FreeSlicesAtUnmap < 0) && DateTime.UtcNow < deadline)
        {
            if (expectLeaks || DateTime.UtcNow > collectAfter)
            {
                // A leaked lease keeps its region mapped until the finalizer returns its slices (and counts the leak,
                // which fails below unless the test declared it).
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            await Task.Delay(10);
        }

        foreach (var group in sessions.GroupBy(s => s.Name, StringComparer.Ordinal))
        {
            var stillMapped = group.Where(s => s.Engine.Buffer.FreeSlicesAtUnmap < 0).ToArray();
            var total = group.First().Engine.Buffer.Manager.TotalSliceCount;
            if (stillMapped.Length > 0)
            {
                problems.Add($"session {group.Key}: region still mapped {Timeout.TotalSeconds:0} s after close (a lease is held); {Holders(group)}");
                continue;
            }

            // A message sent that the receiver never took (the close came first) is not a leak: its slices leave with
            // the region. The session that released last counted what both queues held then (after its release a
            // session neither puts nor pops), and the mapping unmapped last saw the final free lists (the side still
            // mapped after the other's unmap may allocate and queue more, so an earlier unmap's count is stale). Exact
            // both ways: a slice neither free nor queued is a leak, one counted as both is a double free.
            var free = group.MaxBy(s => s.Engine.Buffer.UnmapOrder)!.Engine.Buffer.FreeSlicesAtUnmap;
            var queued = group.MaxBy(s => s.Engine.ReleaseOrder)!.Engine.SlicesQueuedAtRelease;
            if (queued < 0)
            {
                problems.Add($"session {group.Key}: the slices left in its queues could not be counted at release");
            }
            else if (free + queued != total)
            {
                var what = free + queued < total
                    ? $"{total - free - queued} of {total} slices neither on the free lists at unmap nor in a queue element at release"
                    : $"{free + queued - total} slices both on the free lists at unmap and in a queue element at release (of {total})";
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"session {group.Key}: {what} ({free} free, {queued} queued); {Holders(group)}"));
            }
        }

        var leaked = sessions.Sum(s => s.Engine.Metrics.LeasesLeaked);
        var expected = Interlocked.Read(ref _expectedLeakedLeases);
        if (leaked != expected)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{leaked} leases collected undisposed, the test declared {expected}"));
        }

        // Names: fds, mappings and files with one of the test's prefixes (closing may finish on the reactor). A spare
        // region the library made ahead for the test's next connect (ClientSessionMemorySpares) is a cache, not a
        // leak: it is dropped (once made) before the count.
        string[] held;
        while ((!_prefixes.All(ClientSessionMemorySpares.TryDrop) | (held = HeldByName()).Length > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        problems.AddRange(held);
        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"the test left resources behind:{SessionResources.Describe([.. problems])}");
        }
    }

    /// <summary>What each session of a pair still counts as held (leases not disposed, unread messages) and its open streams.</summary>
    private static string Holders(IEnumerable<ShmipcSession> pair) => string.Join(
        ", ",
        pair.Select(s => string.Create(
            CultureInfo.InvariantCulture,
            $"{(s.IsClient ? "client" : "server")} holds {s.Engine.Held.Leases} leases ({s.Engine.Held.Slices} slices) on {s.Engine.ActiveStreamCount} streams, released #{s.Engine.ReleaseOrder} with {s.Engine.SlicesQueuedAtRelease} slices queued, {s.Engine.Buffer.FreeSlicesAtUnmap} free at unmap #{s.Engine.Buffer.UnmapOrder}")));

    private string[] HeldByName()
    {
        var names = _prefixes.Select(p => Path.GetFileName(p)).ToArray();
        var held = new List<string>();
        bool Ours(string text) => names.Any(n => text.Contains(n, StringComparison.Ordinal));

        held.AddRange(ProcessFootprint.OpenFds().Where(fd => Ours(fd.Target)).Select(fd => $"fd {fd.Fd} -> {fd.Target}"));

        held.AddRange(File.ReadLines("/proc/self/maps").Where(Ours).Select(line => $"mapping {line}"));
        foreach (var name in names)
        {
            held.AddRange(Directory.GetFiles("/dev/shm", name + "*").Select(file => $"file {file}"));
        }

        return [.. held];
    }
}
