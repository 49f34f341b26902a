using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// A buffer region (mapping + buffer manager) shared by a session and the leases that use it, freed with the last
/// reference. A client gives each session a region of its own (see <see cref="ClientSessionMemory"/>); a server maps
/// each client region once per session.
/// </summary>
// Design: _refs counts sessions plus live leases (Interlocked, no allocation per lease). The mapping stays valid while
// any reference exists, so a lease can never touch unmapped memory; the last Release unmaps (and, for a file region it
// created, deletes the file). Registries remove the entry under their own lock before the final Release.
internal sealed unsafe class SharedBuffer
{
    private static long s_unmapOrder;
    private readonly Action<SharedBuffer>? _onLastRelease;
    private int _refs = 1;
    private long _freeSlicesAtUnmap = -1;
    private long _unmapOrder;

    public SharedBuffer(SharedRegion region, BufferManager manager, object key, Action<SharedBuffer>? onLastRelease)
    {
        Region = region;
        Manager = manager;
        Key = key;
        _onLastRelease = onLastRelease;
    }

    /// <summary>The mapping.</summary>
    public SharedRegion Region { get; }

    /// <summary>The free lists inside the mapping.</summary>
    public BufferManager Manager { get; }

    /// <summary>What the owning registry files this buffer under.</summary>
    public object Key { get; }

    /// <summary>Base address of the mapping.</summary>
    public byte* Base => Region.Base;

    /// <summary>
    /// How many slices were on the free lists when the last reference went, just before the unmap; -1 while mapped.
    /// Compared with <see cref="BufferManager.TotalSliceCount"/> it tells whether every slice came back (tests' accounting).
    /// </summary>
    public long FreeSlicesAtUnmap => Volatile.Read(ref _freeSlicesAtUnmap);

    /// <summary>
    /// When this mapping was unmapped, in process-wide order (0 while mapped). Two mappings of one region (both sides of
    /// an in-process pair) unmap at different times, and the side still mapped may allocate in between: only the later
    /// unmap's <see cref="FreeSlicesAtUnmap"/> is final.
    /// </summary>
    public long UnmapOrder => Volatile.Read(ref _unmapOrder);

    /// <summary>Adds a reference unless the buffer is already gone.</summary>
    public bool TryAddRef()
    {
        var n = Volatile.Read(ref _refs);
        while (n > 0)
        {
            var seen = Interlocked.CompareExchange(ref _refs, n + 1, n);
            if (seen == n)
            {
                return true;
            }

            n = seen;
        }

        return false;
    }

    /// <summary>Adds a reference; the caller already holds one.</summary>
    public void AddRef() => Interlocked.Increment(ref _refs);

    /// <summary>Drops a reference; the last one unmaps.</summary>
    public void Release()
    {
        var n = Interlocked.Decrement(ref _refs);
        if (n == 0)
        {
            Volatile.Write(ref _freeSlicesAtUnmap, CountFree());
            Volatile.Write(ref _unmapOrder, Interlocked.Increment(ref s_unmapOrder));
            _onLastRelease?.Invoke(this);
            Region.Dispose();
        }
    }

    private long CountFree()
    {
        long free = 0;
        for (var i = 0; i < Manager.ListCount; i++)
        {
            free += Manager.GetList(i).FreeCount;
        }

        return free;
    }
}
