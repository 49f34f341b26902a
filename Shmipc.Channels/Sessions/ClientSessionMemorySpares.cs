namespace Shmipc.Channels.Sessions;

/// <summary>
/// Keeps one memfd-mode <see cref="ClientSessionMemory"/> made ahead of time per client configuration, so a connect
/// takes a laid-out region instead of paying for one (laying out a 32 MiB region touches a page per slice header:
/// tens of milliseconds, see bench/Shmipc.Channels.Benchmarks/README.md <c>connect-cost</c>).
/// </summary>
// Design: s_lock guards s_spares (config key → slot). A slot holds at most one ready spare and a flag for a preparation
// in flight; Take never waits for a preparation (it builds its own then); PrepareNext, called once the handshake is
// done, starts the next one from the second connect of a configuration on. Preparations run on the thread pool,
// outside the lock. A spare is a memfd nobody else has seen (MFD_CLOEXEC, never
// announced), so handing it to a session later is as safe as creating it then. Only memfd mode: a file-mode spare would
// hold /dev/shm space (files are fallocated there) and sit in /dev/shm under a name others can list. At most
// MaxConfigurations configurations keep a spare (the least recently used idle one makes room), so an application that
// builds options per connect cannot pile up regions.
// The spares live as long as the process (the kernel frees them at exit); each costs the pages its layout touched.
internal static class ClientSessionMemorySpares
{
    private const int MaxConfigurations = 4;

    // A spare is made only for layouts with at most this many slices (the default 32 MiB layout has about 2 400): the
    // layout touches a page per slice, so a big region of small slices (256 MiB of 64-byte slices: 4 million) would
    // cost seconds of CPU and all its memory in the background, competing with the traffic of the session that was
    // just connected.
    private const long MaxSparedSlices = 16_384;

    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, Slot> s_spares = [];

    /// <summary>Memory for a new session with <paramref name="options"/>: a spare if one is ready, else made now.</summary>
    public static ClientSessionMemory Take(ShmipcClientOptions options)
    {
        if (options.MemoryMapType != MemoryMapType.MemFd)
        {
            return ClientSessionMemory.Create(options);
        }

        var key = KeyOf(options);
        ClientSessionMemory? spare = null;
        ClientSessionMemory? evicted = null;
        lock (s_lock)
        {
            if (!s_spares.TryGetValue(key, out var slot))
            {
                evicted = EvictOldest();
                if (s_spares.Count < MaxConfigurations)
                {
                    slot = new Slot();
                    s_spares[key] = slot;
                }
            }

            if (slot is not null)
            {
                slot.LastUsed = Environment.TickCount64;
                slot.Uses++;
                spare = slot.Ready;
                slot.Ready = null;
            }
        }

        evicted?.Dispose(deleteQueueFile: false);
        return spare ?? ClientSessionMemory.Create(options);
    }

    /// <summary>
    /// After a connect with <paramref name="options"/> has finished its handshake: starts making the next spare if this
    /// configuration has connected before (a client that connects once never pays for a spare) and none is ready.
    /// </summary>
    /// <remarks>
    /// Not during the handshake: on a busy machine the preparation would compete with it for the CPU, and the server's
    /// handshake timeout covers the client's part too.
    /// </remarks>
    public static void PrepareNext(ShmipcClientOptions options)
    {
        if (options.MemoryMapType != MemoryMapType.MemFd || SliceCount(options) > MaxSparedSlices)
        {
            return;
        }

        var key = KeyOf(options);
        lock (s_lock)
        {
            if (!s_spares.TryGetValue(key, out var slot) || slot.Uses < 2 || slot.Preparing || slot.Ready is not null)
            {
                return;
            }

            slot.Preparing = true;
        }

        // The options object belongs to the caller, who may change it later: prepare from a copy of what counts.
        var copy = Snapshot(options);
        _ = Task.Run(() => Prepare(key, copy));
    }

    /// <summary>How many slices the layout of <paramref name="options"/> has (each costs a touched page to lay out).</summary>
    private static long SliceCount(ShmipcClientOptions options) =>
        options.SizeClasses.Sum(c => options.BufferCapacity * c.Percent / 100 / Math.Max(1, c.SliceSize));

    /// <summary>True while a spare is being made (tests wait for this to settle before counting mappings).</summary>
    internal static bool IsPreparing
    {
        get
        {
            lock (s_lock)
            {
                return s_spares.Values.Any(s => s.Preparing);
            }
        }
    }

    /// <summary>Drops every spare (tests that count mappings; an application never needs this).</summary>
    internal static void Clear()
    {
        List<ClientSessionMemory> drop = [];
        lock (s_lock)
        {
            foreach (var slot in s_spares.Values)
            {
                if (slot.Ready is { } ready)
                {
                    drop.Add(ready);
                    slot.Ready = null;
                }
            }
        }

        foreach (var memory in drop)
        {
            memory.Dispose(deleteQueueFile: false);
        }
    }

    /// <summary>
    /// Drops the spares of configurations with <paramref name="pathPrefix"/> (tests that check a prefix leaves nothing
    /// open); false while one is still being made (call again).
    /// </summary>
    internal static bool TryDrop(string pathPrefix)
    {
        List<ClientSessionMemory> drop = [];
        var preparing = false;
        lock (s_lock)
        {
            foreach (var (key, slot) in s_spares)
            {
                if (!key.Contains("|" + pathPrefix + "|", StringComparison.Ordinal))
                {
                    continue;
                }

                preparing |= slot.Preparing;
                if (slot.Ready is { } ready)
                {
                    drop.Add(ready);
                    slot.Ready = null;
                }
            }
        }

        foreach (var memory in drop)
        {
            memory.Dispose(deleteQueueFile: false);
        }

        return !preparing;
    }

    /// <summary>With every slot taken, removes the least recently used idle one (under s_lock); returns its spare.</summary>
    private static ClientSessionMemory? EvictOldest()
    {
        if (s_spares.Count < MaxConfigurations)
        {
            return null;
        }

        var oldest = s_spares.Where(p => !p.Value.Preparing).OrderBy(p => p.Value.LastUsed).FirstOrDefault();
        if (oldest.Value is null)
        {
            return null;
        }

        s_spares.Remove(oldest.Key);
        return oldest.Value.Ready;
    }

    private static void Prepare(string key, ShmipcClientOptions options)
    {
        ClientSessionMemory? made = null;
        try
        {
            made = ClientSessionMemory.Create(options);
        }
        catch (ShmipcException)
        {
            // Out of memory or fds now: the next connect creates its own memory and reports the error then.
        }
        finally
        {
            // Whatever happened, the slot must not stay "preparing" (that would also pin it against eviction).
            lock (s_lock)
            {
                var slot = s_spares[key];
                slot.Preparing = false;
                if (slot.Ready is null)
                {
                    slot.Ready = made;
                    made = null;
                }
            }
        }

        made?.Dispose(deleteQueueFile: false);
    }

    private static ShmipcClientOptions Snapshot(ShmipcClientOptions o) => new()
    {
        MemoryMapType = o.MemoryMapType,
        PathPrefix = o.PathPrefix,
        BufferCapacity = o.BufferCapacity,
        SizeClasses = [.. o.SizeClasses],
        QueueCapacity = o.QueueCapacity,
        FileMode = o.FileMode,
    };

    private static string KeyOf(ShmipcClientOptions o)
    {
        var classes = string.Join(",", o.SizeClasses.Select(c => $"{c.SliceSize}:{c.Percent}"));
        return $"{o.MemoryMapType}|{o.PathPrefix}|{o.BufferCapacity}|{o.QueueCapacity}|{classes}";
    }

    private sealed class Slot
    {
        public ClientSessionMemory? Ready { get; set; }

        public bool Preparing { get; set; }

        public long LastUsed { get; set; }

        public int Uses { get; set; }
    }
}
