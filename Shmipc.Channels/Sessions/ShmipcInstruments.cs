using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The instruments of one <c>Shmipc</c> <see cref="Meter"/>: the process-wide static meter, or the one an
/// <see cref="IMeterFactory"/> (<see cref="ShmipcOptions.MeterFactory"/>) creates. Counters are pushed as events happen;
/// gauges are observed from the sessions registered here when a listener collects.
/// </summary>
/// <remarks>
/// Parity with shmipc-go's <c>Monitor</c> (stats.go): allocShmErrorCount → <c>shmipc.alloc_shm_errors</c>,
/// fallbackWriteCount → <c>shmipc.fallback_writes</c>, fallbackReadCount → <c>shmipc.fallback_reads</c>,
/// eventConnErrorCount → <c>shmipc.connection_errors</c>, queueFullErrorCount → <c>shmipc.queue_full</c>,
/// recv/sendPollingEventCount → <c>shmipc.sync_events_received</c>/<c>_sent</c>, in/outFlowBytes →
/// <c>shmipc.bytes_received</c>/<c>_sent</c>, hotRestartSuccess/ErrorCount → <c>shmipc.hot_restarts</c>/<c>_errors</c>,
/// ActiveStreamCount → <c>shmipc.active_streams</c>, Send/ReceiveQueueCount → <c>shmipc.queue.pending</c>,
/// CapacityOfShareMemoryInBytes → <c>shmipc.shm.capacity</c>, AllInUsedShareMemoryInBytes → <c>shmipc.shm.in_use</c>.
/// </remarks>
// Design: one instance per Meter (static for the default meter, a ConditionalWeakTable entry per factory-made meter, so
// a factory's meter and its instruments live as long as the factory keeps the meter). Sessions register for the
// observable instruments when they start and leave when they close; the callbacks read each session through
// Session.ReadGauges, which returns null once the session is closed (its memory may be unmapped).
internal sealed class ShmipcInstruments
{
    /// <summary>The meter name (what <c>dotnet-counters monitor --counters Shmipc</c> selects).</summary>
    public const string MeterName = "Shmipc";

    private static readonly ConditionalWeakTable<Meter, ShmipcInstruments> s_byMeter = [];
    private static readonly Lazy<ShmipcInstruments> s_default = new(() => new ShmipcInstruments(new Meter(MeterName)));

    private readonly ConcurrentDictionary<SessionMetrics, byte> _sessions = new();

    private ShmipcInstruments(Meter meter)
    {
        Meter = meter;
        AllocationFailures = meter.CreateCounter<long>("shmipc.alloc_shm_errors", "{allocation}", "Shared-memory allocations that failed (shmipc allocShmErrorCount).");
        FallbackWrites = meter.CreateCounter<long>("shmipc.fallback_writes", "{message}", "Messages sent over the socket because shared memory was exhausted (shmipc fallbackWriteCount).");
        FallbackReads = meter.CreateCounter<long>("shmipc.fallback_reads", "{message}", "Fallback messages received over the socket (shmipc fallbackReadCount).");
        ConnectionErrors = meter.CreateCounter<long>("shmipc.connection_errors", "{session}", "Sessions ended by a connection error: the peer closed or reset the socket, usually because its process exited (shmipc eventConnErrorCount).");
        QueueFull = meter.CreateCounter<long>("shmipc.queue_full", "{write}", "Writes that found the IO queue full (shmipc queueFullErrorCount).");
        SyncSent = meter.CreateCounter<long>("shmipc.sync_events_sent", "{event}", "Wake-up (SyncEvent) frames sent to the peer (shmipc sendPollingEventCount).");
        SyncReceived = meter.CreateCounter<long>("shmipc.sync_events_received", "{event}", "Wake-up (SyncEvent) frames received from the peer (shmipc recvPollingEventCount).");
        BytesSent = meter.CreateCounter<long>("shmipc.bytes_sent", "By", "Message bytes sent, through shared memory or the socket (shmipc outFlowBytes).");
        BytesReceived = meter.CreateCounter<long>("shmipc.bytes_received", "By", "Message bytes received, through shared memory or the socket (shmipc inFlowBytes).");
        HotRestarts = meter.CreateCounter<long>("shmipc.hot_restarts", "{restart}", "Hot restarts completed (shmipc hotRestartSuccessCount).");
        HotRestartErrors = meter.CreateCounter<long>("shmipc.hot_restart_errors", "{restart}", "Hot restarts that failed (shmipc hotRestartErrorCount).");
        FallbackEntries = meter.CreateCounter<long>("shmipc.fallback_entries", "{stream}", "Times a stream started sending over the socket because shared memory was exhausted.");
        LeasesLeaked = meter.CreateCounter<long>("shmipc.leases_leaked", "{lease}", "Leases garbage-collected without Dispose (their slices were returned).");
        meter.CreateObservableCounter("shmipc.receive_budget_pauses", () => Observe(static g => g.BudgetPauses), "{pause}", "Times a session stopped reading its socket and IO queue because its readers left the receive budget full.");
        meter.CreateObservableUpDownCounter("shmipc.active_streams", () => Observe(static g => g.ActiveStreams), "{stream}", "Open streams (shmipc ActiveStreamCount).");
        meter.CreateObservableGauge("shmipc.queue.pending", ObservePending, "{element}", "IO queue elements written and not yet consumed, by direction (shmipc SendQueueCount / ReceiveQueueCount).");
        meter.CreateObservableGauge("shmipc.shm.capacity", () => Observe(static g => g.CapacityBytes), "By", "Data bytes of the session's buffer region (shmipc CapacityOfShareMemoryInBytes).");
        meter.CreateObservableGauge("shmipc.shm.in_use", () => Observe(static g => g.InUseBytes), "By", "Data bytes of slices off the free lists, held by either process (shmipc AllInUsedShareMemoryInBytes).");
        meter.CreateObservableGauge("shmipc.slices.in_use", () => Observe(static g => g.SlicesInUse), "{slice}", "Slices of the session's buffer region off the free lists.");
        meter.CreateObservableGauge("shmipc.slices.free", () => Observe(static g => g.SlicesFree), "{slice}", "Slices on the free lists of the session's buffer region.");
    }

    public Meter Meter { get; }

    public Counter<long> AllocationFailures { get; }

    public Counter<long> FallbackWrites { get; }

    public Counter<long> FallbackReads { get; }

    public Counter<long> ConnectionErrors { get; }

    public Counter<long> QueueFull { get; }

    public Counter<long> SyncSent { get; }

    public Counter<long> SyncReceived { get; }

    public Counter<long> BytesSent { get; }

    public Counter<long> BytesReceived { get; }

    public Counter<long> HotRestarts { get; }

    public Counter<long> HotRestartErrors { get; }

    public Counter<long> FallbackEntries { get; }

    public Counter<long> LeasesLeaked { get; }

    /// <summary>The instruments on the static meter, or on the meter <paramref name="factory"/> makes (one set per meter).</summary>
    public static ShmipcInstruments For(IMeterFactory? factory) =>
        factory is null
            ? s_default.Value
            : s_byMeter.GetValue(factory.Create(new MeterOptions(MeterName)), static meter => new ShmipcInstruments(meter));

    /// <summary>Adds a session to the observed ones.</summary>
    public void Register(SessionMetrics session) => _sessions.TryAdd(session, 0);

    /// <summary>Removes a session from the observed ones.</summary>
    public void Unregister(SessionMetrics session) => _sessions.TryRemove(session, out _);

    private IEnumerable<Measurement<long>> Observe(Func<SessionGauges, long> value)
    {
        foreach (var session in _sessions.Keys)
        {
            if (session.ReadGauges() is { } gauges)
            {
                yield return new Measurement<long>(value(gauges), session.Tags);
            }
        }
    }

    private IEnumerable<Measurement<long>> ObservePending()
    {
        foreach (var session in _sessions.Keys)
        {
            if (session.ReadGauges() is { } gauges)
            {
                yield return new Measurement<long>(gauges.SendQueuePending, session.SendTags);
                yield return new Measurement<long>(gauges.ReceiveQueuePending, session.ReceiveTags);
            }
        }
    }
}
