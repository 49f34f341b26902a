namespace Shmipc.Channels;

/// <summary>
/// A snapshot of a session's shared memory and leases (<see cref="ShmipcSession.Statistics"/>): how many slices the
/// buffer region has, how many are free, how many this session's leases hold in this process, and what leaked.
/// </summary>
/// <remarks>
/// The region's free and in-use counts are read from the free lists both processes update (and, on a client, every
/// session of the process that shares the region), so they move while you look. The lease counts are this session's,
/// in this process: leases received and not disposed, plus leases rented and not yet written.
/// </remarks>
public sealed class ShmipcSessionStatistics
{
    internal ShmipcSessionStatistics(
        long slicesTotal,
        long slicesFree,
        long leasesHeld,
        long slicesHeld,
        long leasesLeaked,
        long slicesReclaimed,
        long fallbackEntries)
    {
        SlicesTotal = slicesTotal;
        SlicesFree = slicesFree;
        LeasesHeld = leasesHeld;
        SlicesHeld = slicesHeld;
        LeasesLeaked = leasesLeaked;
        SlicesReclaimed = slicesReclaimed;
        FallbackEntries = fallbackEntries;
    }

    /// <summary>Slices in the buffer region (all size classes).</summary>
    public long SlicesTotal { get; }

    /// <summary>Slices on the shared free lists right now (one per size class is never handed out, as in shmipc).</summary>
    public long SlicesFree { get; }

    /// <summary>Slices not on the free lists: held by either process's leases or in flight between them.</summary>
    public long SlicesInUse => SlicesTotal - SlicesFree;

    /// <summary>This session's leases in this process that are neither disposed nor written yet.</summary>
    public long LeasesHeld { get; }

    /// <summary>The shared-memory slices those leases hold.</summary>
    public long SlicesHeld { get; }

    /// <summary>Leases of this session that were garbage-collected without being disposed (each was logged).</summary>
    public long LeasesLeaked { get; }

    /// <summary>Slices those leaked leases held, returned to the free lists when they were collected.</summary>
    public long SlicesReclaimed { get; }

    /// <summary>Times a stream of this session started sending over the socket because shared memory ran out.</summary>
    public long FallbackEntries { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"slices {SlicesInUse}/{SlicesTotal} in use ({SlicesFree} free), leases held {LeasesHeld} ({SlicesHeld} slices), leaked {LeasesLeaked} ({SlicesReclaimed} slices reclaimed), fallback entries {FallbackEntries}";
}
