namespace Shmipc.Channels.Interop;

/// <summary>
/// A point in <see cref="Environment.TickCount64"/> time (milliseconds, monotonic) by which a blocking
/// helper must finish. Several steps of one handshake can share one deadline.
/// </summary>
/// <param name="At">The tick count at which the deadline passes; <see cref="long.MaxValue"/> means never.</param>
internal readonly record struct Deadline(long At)
{
    /// <summary>A deadline that never passes.</summary>
    public static Deadline Infinite => new(long.MaxValue);

    /// <summary>True for <see cref="Infinite"/>.</summary>
    public bool IsInfinite => At == long.MaxValue;

    /// <summary>True once the deadline has passed.</summary>
    public bool HasExpired => !IsInfinite && Environment.TickCount64 >= At;

    /// <summary>Milliseconds left for poll(2)/epoll_wait(2): -1 when infinite, otherwise 0..int.MaxValue.</summary>
    public int RemainingMilliseconds
    {
        get
        {
            if (IsInfinite)
            {
                return -1;
            }

            long left = At - Environment.TickCount64;
            return left <= 0 ? 0 : (int)Math.Min(left, int.MaxValue);
        }
    }

    /// <summary>
    /// The deadline <paramref name="timeout"/> from now (rounded up to whole milliseconds);
    /// <see cref="Timeout.InfiniteTimeSpan"/> gives <see cref="Infinite"/>.
    /// </summary>
    public static Deadline FromTimeout(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Infinite;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        long ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
        long now = Environment.TickCount64;
        return new Deadline(ms >= long.MaxValue - now ? long.MaxValue - 1 : now + ms);
    }
}
