using System.Diagnostics;

namespace Shmipc.Channels.Protocol;

/// <summary>
/// The one timer of a handshake (shmipc <c>InitializeTimeout</c>, §3): every step gets only what is left of it,
/// so a peer that dribbles bytes cannot stretch the handshake to a multiple of the timeout.
/// </summary>
internal readonly struct HandshakeDeadline
{
    private readonly long _startTimestamp;

    private HandshakeDeadline(long startTimestamp, TimeSpan timeout)
    {
        _startTimestamp = startTimestamp;
        Timeout = timeout;
    }

    /// <summary>The whole budget; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan Timeout { get; }

    public bool IsInfinite => Timeout == System.Threading.Timeout.InfiniteTimeSpan;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp);

    public static HandshakeDeadline Start(TimeSpan timeout)
    {
        if (timeout != System.Threading.Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The handshake timeout must be positive or infinite.");
        }

        return new HandshakeDeadline(Stopwatch.GetTimestamp(), timeout);
    }

    /// <summary>The time left for <paramref name="step"/>; throws <see cref="ShmipcErrorCode.Timeout"/> when none is.</summary>
    public TimeSpan GetRemaining(string step)
    {
        if (IsInfinite)
        {
            return System.Threading.Timeout.InfiniteTimeSpan;
        }

        TimeSpan remaining = Timeout - Elapsed;
        if (remaining <= TimeSpan.Zero)
        {
            throw CreateTimeout(step, null);
        }

        return remaining;
    }

    public ShmipcException CreateTimeout(string step, Exception? innerException) =>
        new(ShmipcErrorCode.Timeout,
            $"handshake step '{step}' timed out after {Elapsed.TotalMilliseconds:F0} ms (handshake timeout {Timeout.TotalMilliseconds:F0} ms)",
            innerException);
}
