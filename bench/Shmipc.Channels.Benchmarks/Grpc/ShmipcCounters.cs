using System.Diagnostics.Metrics;

namespace Shmipc.Channels.Benchmarks.Grpc;

/// <summary>
/// Sums this process's <c>Shmipc</c> counters that explain a gRPC row: messages that fell back to the socket (sent by
/// this client, or received from the server) and wake-up frames, so a slow row says whether shared memory ran out.
/// </summary>
internal sealed class ShmipcCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _fallbackWrites;
    private long _fallbackReads;
    private long _syncSent;
    private long _syncReceived;

    public ShmipcCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Shmipc" && instrument.Name is "shmipc.fallback_writes" or "shmipc.fallback_reads" or "shmipc.sync_events_sent" or "shmipc.sync_events_received")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            switch (instrument.Name)
            {
                case "shmipc.fallback_writes": Interlocked.Add(ref _fallbackWrites, value); break;
                case "shmipc.fallback_reads": Interlocked.Add(ref _fallbackReads, value); break;
                case "shmipc.sync_events_sent": Interlocked.Add(ref _syncSent, value); break;
                case "shmipc.sync_events_received": Interlocked.Add(ref _syncReceived, value); break;
            }
        });
        _listener.Start();
    }

    /// <summary>The counts so far.</summary>
    public Snapshot Read() =>
        new(Interlocked.Read(ref _fallbackWrites), Interlocked.Read(ref _fallbackReads), Interlocked.Read(ref _syncSent), Interlocked.Read(ref _syncReceived));

    /// <summary>What the counters did since <paramref name="before"/>, as a row suffix (empty when nothing, as for the other transports).</summary>
    public string Since(Snapshot before)
    {
        var now = Read();
        var d = new Snapshot(now.FallbackWrites - before.FallbackWrites, now.FallbackReads - before.FallbackReads, now.SyncSent - before.SyncSent, now.SyncReceived - before.SyncReceived);
        return d == default ? "" : $"   fallback msgs {d.FallbackWrites} out / {d.FallbackReads} in, wake-ups {d.SyncSent} out / {d.SyncReceived} in";
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Fallback messages sent and received, wake-up frames sent and received.</summary>
    public readonly record struct Snapshot(long FallbackWrites, long FallbackReads, long SyncSent, long SyncReceived);
}
