namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>What a cell measures.</summary>
internal enum CellKind
{
    /// <summary>Round trips: write a request, wait for its echo, verify it (latency per round trip, size sweep).</summary>
    PingPong,

    /// <summary>Round trips on many streams at once (request rate; same loop as <see cref="PingPong"/>).</summary>
    Rate,

    /// <summary>One-way streaming: the sender never waits, the receiver checksums every message; rate = messages/s.</summary>
    OneWay,
}
