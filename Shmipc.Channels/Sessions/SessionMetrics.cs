using System.Diagnostics.Metrics;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The counters of shmipc-go's Monitor, per session (for <see cref="ShmipcSession"/> introspection and tests) and
/// process-wide through the <c>Shmipc</c> meter, so <c>dotnet-counters</c> and OpenTelemetry see them.
/// </summary>
// Design: each counter is an Interlocked field (cheap on the hot path) plus the meter instrument; the meter's Add is
// allocation-free when no listener is attached.
internal sealed class SessionMetrics
{
    private static readonly Meter s_meter = new("Shmipc");

    /// <summary>The library's one meter, for instruments defined elsewhere (PoolMetrics).</summary>
    internal static Meter Meter => s_meter;
    private static readonly Counter<long> s_allocFailed = s_meter.CreateCounter<long>("shmipc.alloc_shm_errors", description: "Shared-memory allocations that failed and fell back to the heap.");
    private static readonly Counter<long> s_fallbackWrites = s_meter.CreateCounter<long>("shmipc.fallback_writes", description: "Messages sent over the socket because shared memory was exhausted.");
    private static readonly Counter<long> s_fallbackReads = s_meter.CreateCounter<long>("shmipc.fallback_reads", description: "Fallback messages received over the socket.");
    private static readonly Counter<long> s_queueFull = s_meter.CreateCounter<long>("shmipc.queue_full", description: "Writes that found the IO queue full.");
    private static readonly Counter<long> s_syncSent = s_meter.CreateCounter<long>("shmipc.sync_events_sent", description: "Wake-up (SyncEvent) frames sent to peers.");
    private static readonly Counter<long> s_syncReceived = s_meter.CreateCounter<long>("shmipc.sync_events_received", description: "Wake-up (SyncEvent) frames received from peers.");
    private static readonly Counter<long> s_receivePaused = s_meter.CreateCounter<long>("shmipc.receive_budget_pauses", description: "Times a session stopped reading its socket and IO queue because its readers left the receive budget full.");
    private static readonly Counter<long> s_fallbackEntries = s_meter.CreateCounter<long>("shmipc.fallback_entries", description: "Times a stream started sending over the socket because shared memory was exhausted.");
    private static readonly Counter<long> s_leasesLeaked = s_meter.CreateCounter<long>("shmipc.leases_leaked", description: "Leases garbage-collected without Dispose (their slices were returned).");
    private static readonly UpDownCounter<long> s_activeStreams = s_meter.CreateUpDownCounter<long>("shmipc.active_streams", description: "Open streams.");

    private long _allocFailed;
    private long _fallbackWrites;
    private long _fallbackReads;
    private long _queueFull;
    private long _syncSent;
    private long _syncReceived;
    private long _fallbackEntries;
    private long _leasesLeaked;
    private long _slicesReclaimed;

    public long AllocationFailures => Volatile.Read(ref _allocFailed);

    public long FallbackWrites => Volatile.Read(ref _fallbackWrites);

    public long FallbackReads => Volatile.Read(ref _fallbackReads);

    public long QueueFullEvents => Volatile.Read(ref _queueFull);

    public long SyncEventsSent => Volatile.Read(ref _syncSent);

    public long SyncEventsReceived => Volatile.Read(ref _syncReceived);

    public long FallbackEntries => Volatile.Read(ref _fallbackEntries);

    public long LeasesLeaked => Volatile.Read(ref _leasesLeaked);

    public long SlicesReclaimed => Volatile.Read(ref _slicesReclaimed);

    public void FallbackEntered()
    {
        Interlocked.Increment(ref _fallbackEntries);
        s_fallbackEntries.Add(1);
    }

    public void LeaseLeaked(int slices)
    {
        Interlocked.Increment(ref _leasesLeaked);
        Interlocked.Add(ref _slicesReclaimed, slices);
        s_leasesLeaked.Add(1);
    }

    public void AllocationFailed()
    {
        Interlocked.Increment(ref _allocFailed);
        s_allocFailed.Add(1);
    }

    public void FallbackWritten()
    {
        Interlocked.Increment(ref _fallbackWrites);
        s_fallbackWrites.Add(1);
    }

    public void FallbackRead()
    {
        Interlocked.Increment(ref _fallbackReads);
        s_fallbackReads.Add(1);
    }

    public void QueueWasFull()
    {
        Interlocked.Increment(ref _queueFull);
        s_queueFull.Add(1);
    }

    public void SyncSent()
    {
        Interlocked.Increment(ref _syncSent);
        s_syncSent.Add(1);
    }

    public void SyncReceived()
    {
        Interlocked.Increment(ref _syncReceived);
        s_syncReceived.Add(1);
    }

    public static void ReceivePaused() => s_receivePaused.Add(1);

    public static void StreamOpened() => s_activeStreams.Add(1);

    public static void StreamClosed() => s_activeStreams.Add(-1);
}
