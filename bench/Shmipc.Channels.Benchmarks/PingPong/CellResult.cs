using System.Diagnostics;
using HdrHistogram;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>One measured cell: a transport, a payload size and a stream count; latencies in nanoseconds.</summary>
internal sealed class CellResult(string transport, int size, int streams)
{
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    public string Transport { get; } = transport;

    public int Size { get; } = size;

    public int Streams { get; } = streams;

    /// <summary>Round-trip latencies of every stream, merged.</summary>
    public LongHistogram Histogram { get; } = NewHistogram();

    public long RoundTrips { get; set; }

    public TimeSpan Elapsed { get; set; }

    /// <summary>Wake-up frames (SyncEvents) the client sent plus received during the cell; shmipc only.</summary>
    public long WakeUps { get; set; }

    /// <summary>CPU time of the client process and the transport's server child during the measured part.</summary>
    public TimeSpan CpuTime { get; set; }

    /// <summary>CPU microseconds (both processes) per round trip.</summary>
    public double CpuMicrosPerRoundTrip => RoundTrips == 0 ? double.NaN : CpuTime.TotalMicroseconds / RoundTrips;

    /// <summary>Request plus response bytes per second, in MB (10^6 bytes).</summary>
    public double MegabytesPerSecond => RoundTrips == 0 ? 0 : 2.0 * Size * RoundTrips / Elapsed.TotalSeconds / 1e6;

    /// <summary>Values up to one minute with 3 significant digits.</summary>
    public static LongHistogram NewHistogram() => new(60_000_000_000L, 3);

    public static long ToNanos(long ticks) => (long)(ticks * NanosPerTick);

    public double PercentileMicros(double percentile) => Histogram.TotalCount == 0 ? double.NaN : Histogram.GetValueAtPercentile(percentile) / 1000.0;
}
