using System.Diagnostics.Metrics;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The counters of shmipc-go's Monitor, per session (for the public session's introspection and tests) and through
/// the <c>Shmipc</c> meter (<see cref="ShmipcInstruments"/>), tagged <c>shmipc.session</c> (the session's name) and
/// <c>shmipc.session.role</c> (<c>client</c> or <c>server</c>), so <c>dotnet-counters</c> and OpenTelemetry see them.
/// </summary>
// Design: each event is an Interlocked field (cheap on the hot path) plus a tagged Counter.Add, which returns at once
// when no listener is enabled and allocates nothing (the tags are one array per session, passed as a span). State
// (slices, queues, streams) is not counted here: the meter observes it through ReadGauges while the session is
// registered (Attach .. Detach).
internal sealed class SessionMetrics
{
    private readonly ShmipcInstruments _instruments;
    private readonly KeyValuePair<string, object?>[] _tags;
    private Func<SessionGauges?>? _gauges;
    private long _allocFailed;
    private long _fallbackWrites;
    private long _fallbackReads;
    private long _queueFull;
    private long _syncSent;
    private long _syncReceived;
    private long _bytesSent;
    private long _bytesReceived;
    private long _fallbackEntries;
    private long _leasesLeaked;
    private long _slicesReclaimed;
    private long _hotRestarts;
    private long _hotRestartErrors;

    /// <summary>Metrics of the session <paramref name="name"/>, on the meter <paramref name="meterFactory"/> makes (or the static one).</summary>
    public SessionMetrics(string name, bool isClient, IMeterFactory? meterFactory)
    {
        _instruments = ShmipcInstruments.For(meterFactory);
        string role = isClient ? "client" : "server";
        _tags = [new("shmipc.session", name), new("shmipc.session.role", role)];
        SendTags = [.. _tags, new("shmipc.queue.direction", "send")];
        ReceiveTags = [.. _tags, new("shmipc.queue.direction", "receive")];
    }

    /// <summary>The session's tags (name and role).</summary>
    public KeyValuePair<string, object?>[] Tags => _tags;

    /// <summary>The tags of the send queue's pending count.</summary>
    public KeyValuePair<string, object?>[] SendTags { get; }

    /// <summary>The tags of the receive queue's pending count.</summary>
    public KeyValuePair<string, object?>[] ReceiveTags { get; }

    /// <summary>The meter the instruments are on.</summary>
    public Meter Meter => _instruments.Meter;

    public long AllocationFailures => Volatile.Read(ref _allocFailed);

    public long FallbackWrites => Volatile.Read(ref _fallbackWrites);

    public long FallbackReads => Volatile.Read(ref _fallbackReads);

    public long QueueFullEvents => Volatile.Read(ref _queueFull);

    public long SyncEventsSent => Volatile.Read(ref _syncSent);

    public long SyncEventsReceived => Volatile.Read(ref _syncReceived);

    public long BytesSent => Volatile.Read(ref _bytesSent);

    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    public long FallbackEntries => Volatile.Read(ref _fallbackEntries);

    public long LeasesLeaked => Volatile.Read(ref _leasesLeaked);

    public long SlicesReclaimed => Volatile.Read(ref _slicesReclaimed);

    public long HotRestarts => Volatile.Read(ref _hotRestarts);

    public long HotRestartErrors => Volatile.Read(ref _hotRestartErrors);

    /// <summary>Starts the observable instruments reading this session through <paramref name="gauges"/> (null once it is closed).</summary>
    public void Attach(Func<SessionGauges?> gauges)
    {
        _gauges = gauges;
        _instruments.Register(this);
    }

    /// <summary>Stops observing the session; counts a connection error if <paramref name="closeReason"/> is one.</summary>
    public void Detach(Exception? closeReason)
    {
        _instruments.Unregister(this);
        if (closeReason is ShmipcException { ErrorCode: ShmipcErrorCode.PeerClosed })
        {
            _instruments.ConnectionErrors.Add(1, _tags.AsSpan());
        }
    }

    /// <summary>The session's state now, or null when it is closed or not attached.</summary>
    public SessionGauges? ReadGauges() => _gauges?.Invoke();

    public void FallbackEntered()
    {
        Interlocked.Increment(ref _fallbackEntries);
        _instruments.FallbackEntries.Add(1, _tags.AsSpan());
    }

    public void LeaseLeaked(int slices)
    {
        Interlocked.Increment(ref _leasesLeaked);
        Interlocked.Add(ref _slicesReclaimed, slices);
        _instruments.LeasesLeaked.Add(1, _tags.AsSpan());
    }

    public void AllocationFailed()
    {
        Interlocked.Increment(ref _allocFailed);
        _instruments.AllocationFailures.Add(1, _tags.AsSpan());
    }

    /// <summary>A message of <paramref name="bytes"/> went over the socket.</summary>
    public void FallbackWritten(int bytes)
    {
        Interlocked.Increment(ref _fallbackWrites);
        _instruments.FallbackWrites.Add(1, _tags.AsSpan());
        Sent(bytes);
    }

    /// <summary>A message of <paramref name="bytes"/> arrived over the socket.</summary>
    public void FallbackRead(int bytes)
    {
        Interlocked.Increment(ref _fallbackReads);
        _instruments.FallbackReads.Add(1, _tags.AsSpan());
        Received(bytes);
    }

    /// <summary>A message of <paramref name="bytes"/> was sent (shared memory or socket).</summary>
    public void Sent(int bytes)
    {
        Interlocked.Add(ref _bytesSent, bytes);
        _instruments.BytesSent.Add(bytes, _tags.AsSpan());
    }

    /// <summary>A message of <paramref name="bytes"/> was received (shared memory or socket).</summary>
    public void Received(int bytes)
    {
        Interlocked.Add(ref _bytesReceived, bytes);
        _instruments.BytesReceived.Add(bytes, _tags.AsSpan());
    }

    public void QueueWasFull()
    {
        Interlocked.Increment(ref _queueFull);
        _instruments.QueueFull.Add(1, _tags.AsSpan());
    }

    public void SyncSent()
    {
        Interlocked.Increment(ref _syncSent);
        _instruments.SyncSent.Add(1, _tags.AsSpan());
    }

    public void SyncReceived()
    {
        Interlocked.Increment(ref _syncReceived);
        _instruments.SyncReceived.Add(1, _tags.AsSpan());
    }

    /// <summary>For the hot-restart code: a hot restart of this session completed.</summary>
    internal void HotRestarted()
    {
        Interlocked.Increment(ref _hotRestarts);
        _instruments.HotRestarts.Add(1, _tags.AsSpan());
    }

    /// <summary>For the hot-restart code: a hot restart of this session failed.</summary>
    internal void HotRestartFailed()
    {
        Interlocked.Increment(ref _hotRestartErrors);
        _instruments.HotRestartErrors.Add(1, _tags.AsSpan());
    }
}
