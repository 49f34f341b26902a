using System.Diagnostics;
using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>One measured cell: a transport and a <see cref="CellSpec"/>; latencies in nanoseconds.</summary>
internal sealed class CellResult(string transport, CellSpec spec)
{
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    public string Transport { get; } = transport;

    public CellSpec Spec { get; } = spec;

    public int Size => Spec.Size;

    public int Streams => Spec.Streams;

    /// <summary>Round-trip latencies of every stream, merged (empty for one-way cells).</summary>
    public LongHistogram Histogram { get; } = NewHistogram();

    /// <summary>Round trips (ping-pong and rate cells) or messages received and verified (one-way cells).</summary>
    public long RoundTrips { get; set; }

    public TimeSpan Elapsed { get; set; }

    /// <summary>Wake-up frames (SyncEvents) the client sent plus received during the cell; shmipc only.</summary>
    public long? WakeUps { get; set; }

    /// <summary>CPU time of the client process and the transport's server child during the measured part.</summary>
    public TimeSpan CpuTime { get; set; }

    /// <summary>Context switches (voluntary + involuntary) of the client process and the transport's child during the measured part.</summary>
    public long ContextSwitches { get; set; }

    /// <summary>Context switches per message (both processes).</summary>
    public double ContextSwitchesPerMessage => RoundTrips == 0 ? double.NaN : (double)ContextSwitches / RoundTrips;

    /// <summary>Bytes this (client) process allocated during the measured part, all threads.</summary>
    public long AllocatedBytes { get; set; }

    /// <summary>Messages (round trips or one-way messages) per second.</summary>
    public double MessagesPerSecond => RoundTrips == 0 ? 0 : RoundTrips / Elapsed.TotalSeconds;

    /// <summary>CPU seconds (both processes) per million messages.</summary>
    public double CpuSecondsPerMillion => RoundTrips == 0 ? double.NaN : CpuTime.TotalSeconds / (RoundTrips / 1e6);

    /// <summary>Client-process bytes allocated per message.</summary>
    public double BytesPerMessage => RoundTrips == 0 ? double.NaN : (double)AllocatedBytes / RoundTrips;

    /// <summary>Payload bytes per second in MB (10^6 bytes): request + response for round trips, the message for one-way.</summary>
    public double MegabytesPerSecond => RoundTrips == 0 ? 0 : (Spec.Kind == CellKind.OneWay ? 1.0 : 2.0) * Size * RoundTrips / Elapsed.TotalSeconds / 1e6;

    /// <summary>Values up to one minute with 3 significant digits.</summary>
    public static LongHistogram NewHistogram() => new(60_000_000_000L, 3);

    public static long ToNanos(long ticks) => (long)(ticks * NanosPerTick);

    public double PercentileMicros(double percentile) => Histogram.TotalCount == 0 ? double.NaN : Histogram.GetValueAtPercentile(percentile) / 1000.0;
}
