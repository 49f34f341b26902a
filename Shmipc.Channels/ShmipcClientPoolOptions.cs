namespace Shmipc.Channels;

/// <summary>Settings of a <see cref="ShmipcClientPool"/>; the defaults are shmipc-go's SessionManager defaults.</summary>
public sealed class ShmipcClientPoolOptions
{
    /// <summary>Settings of every session of the pool. Default: <see cref="ShmipcClientOptions"/>'s defaults.</summary>
    public ShmipcClientOptions ClientOptions { get; set; } = new();

    /// <summary>
    /// Sessions to the server (shmipc-go's <c>SessionNum</c>): each has its own socket, IO queues and shared memory.
    /// Default 1. shmipc-go recommends about one per server thread.
    /// </summary>
    public int SessionCount { get; set; } = 1;

    /// <summary>Streams given back with <see cref="ShmipcClientPool.Return"/> kept per session for reuse (shmipc-go's <c>MaxStreamNum</c>). Default 4096.</summary>
    public int MaxIdleStreamsPerSession { get; set; } = 4096;

    /// <summary>How long a stream given back stays idle before it is closed (shmipc-go's <c>StreamMaxIdleTime</c>). Default 30 s.</summary>
    public TimeSpan IdleStreamTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest wait between two attempts to rebuild a session that died (shmipc-go's rebuild interval). The first
    /// attempt follows after 100 ms, each failure doubles the wait up to this. Default 60 s.
    /// </summary>
    public TimeSpan RebuildInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a hot restart may take on this side: if not every session has moved to the new server by then, the old
    /// sessions that moved are closed (as shmipc-go does). Default 2 s, shmipc-go's hotRestartCheckTimeout.
    /// </summary>
    public TimeSpan HotRestartTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Checks the settings (and <see cref="ClientOptions"/>).</summary>
    /// <exception cref="ShmipcException"><see cref="ShmipcErrorCode.InvalidConfiguration"/>: a setting is out of range.</exception>
    public void Validate()
    {
        Require(ClientOptions is not null, $"{nameof(ClientOptions)} must not be null.");
        ClientOptions!.Validate();
        Require(SessionCount is > 0 and <= 1024, $"{nameof(SessionCount)} must be 1 to 1024, not {SessionCount}.");
        Require(MaxIdleStreamsPerSession >= 0, $"{nameof(MaxIdleStreamsPerSession)} must not be negative, not {MaxIdleStreamsPerSession}.");
        Require(IdleStreamTimeout > TimeSpan.Zero, $"{nameof(IdleStreamTimeout)} must be positive, not {IdleStreamTimeout}.");
        Require(RebuildInterval >= TimeSpan.FromMilliseconds(100), $"{nameof(RebuildInterval)} must be at least 100 ms, not {RebuildInterval}.");
        Require(HotRestartTimeout > TimeSpan.Zero, $"{nameof(HotRestartTimeout)} must be positive, not {HotRestartTimeout}.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, message);
        }
    }
}
