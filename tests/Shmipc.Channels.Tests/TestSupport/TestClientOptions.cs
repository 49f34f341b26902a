namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>Client options the in-process session tests share.</summary>
public static class TestClientOptions
{
    /// <summary>A 1 MiB memfd region of 1 KiB and 4 KiB slices under a fresh /dev/shm prefix.</summary>
    /// <param name="handshakeTimeout">Generous on a busy machine.</param>
    public static ShmipcClientOptions Small(TimeSpan handshakeTimeout) => new()
    {
        BufferCapacity = 1024 * 1024,
        SizeClasses = [new(1024, 50), new(4096, 50)],
        PathPrefix = $"/dev/shm/shmipc_test_{Guid.NewGuid():N}",
        HandshakeTimeout = handshakeTimeout,
    };
}
