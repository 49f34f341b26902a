namespace Shmipc.Channels;

/// <summary>What a writer does when the shared buffer region has no free slice for its message.</summary>
/// <remarks>
/// Slices are taken while a lease is written (<see cref="ShmLease.GetSpan"/>, which cannot wait), so the policy acts
/// in two places: <see cref="FailFast"/> throws there; <see cref="Wait"/> and <see cref="Fallback"/> keep writing the
/// message to a private heap buffer, and <see cref="ShmipcStream.Output"/> then either waits for free slices and moves
/// the message into them (<see cref="Wait"/>) or sends it over the socket (<see cref="Fallback"/>). A message that can
/// never fit (a contiguous size hint above the largest slice) travels over the socket under every policy.
/// </remarks>
public enum ExhaustionPolicy
{
    /// <summary>
    /// Send the message over the socket (shmipc's fallback path). Writes never wait for the reader, and Go and Rust
    /// peers see what they expect. The default: a write never depends on the peer disposing its leases, so
    /// write-everything-then-read-everything exchanges cannot deadlock (both directions allocate from the client's one
    /// region). Between two Shmipc.NET peers the stream returns to shared memory as soon as slices are free.
    /// </summary>
    Fallback = 0,

    /// <summary>
    /// Wait in <see cref="System.Threading.Channels.ChannelWriter{T}.WriteAsync"/> until the peer frees slices, then
    /// send through shared memory: memory-bounded back-pressure, nothing on the socket. The wait is cancellable and
    /// bounded by <see cref="ShmipcOptions.WriteTimeout"/> (a <see cref="ShmipcException"/> with
    /// <see cref="ShmipcErrorCode.NoMoreBuffer"/> when it passes). Use it when the reader consumes independently of
    /// the writer; two sides that each write a burst before reading can stall each other until the timeout.
    /// </summary>
    Wait = 1,

    /// <summary>
    /// Throw a <see cref="ShmipcException"/> with <see cref="ShmipcErrorCode.NoMoreBuffer"/> from the write into the
    /// lease that found no free slice. The lease stays valid: dispose it (or write it elsewhere).
    /// </summary>
    FailFast = 2,
}
