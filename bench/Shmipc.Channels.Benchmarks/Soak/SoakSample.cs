using System.Globalization;

namespace Shmipc.Channels.Benchmarks.Soak;

/// <summary>One progress sample of a soak run: totals so far and the state of both processes.</summary>
internal readonly record struct SoakSample(
    TimeSpan Elapsed,
    long RoundTrips,
    long Bytes,
    double IntervalMiBPerSecond,
    long ClientRssKiB,
    long ServerRssKiB,
    long ManagedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    long SlicesInUse,
    int ClientFds,
    int ServerFds,
    long Fallbacks)
{
    public const string Header = "   time   round trips    MiB/s  client RSS  server RSS  managed   gen0/1/2        slices  fds c/s  fallbacks";

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Elapsed.TotalSeconds,6:0}s {RoundTrips,13:N0} {IntervalMiBPerSecond,8:0.0} {ClientRssKiB / 1024.0,8:0.0}MiB {ServerRssKiB / 1024.0,8:0.0}MiB {ManagedBytes / 1048576.0,6:0.0}MiB {Gen0,6}/{Gen1}/{Gen2,-4} {SlicesInUse,9} {ClientFds,4}/{ServerFds,-4} {Fallbacks,9}");
}
