namespace Shmipc.Channels.Protocol;

/// <summary>What a client announces in its handshake: the mode, the two paths (or memfd names) and, for memfd, the fds.</summary>
/// <remarks>
/// The fds stay owned by the caller: the handshake only passes them to <c>sendmsg</c>, which duplicates them
/// into the server. Paths are validated when the frame is built (non-empty, no NUL, ≤ 4096 UTF-8 bytes).
/// </remarks>
internal sealed class ClientHandshakeRequest
{
    private ClientHandshakeRequest(HandshakeMode mode, string queuePath, string bufferPath, int bufferFd, int queueFd)
    {
        ArgumentException.ThrowIfNullOrEmpty(queuePath);
        ArgumentException.ThrowIfNullOrEmpty(bufferPath);
        Mode = mode;
        QueuePath = queuePath;
        BufferPath = bufferPath;
        BufferFd = bufferFd;
        QueueFd = queueFd;
    }

    public HandshakeMode Mode { get; }

    /// <summary>Queue file path (file modes) or the queue memfd's logical name (memfd mode).</summary>
    public string QueuePath { get; }

    /// <summary>Buffer-region file path (file modes) or the region memfd's logical name (memfd mode).</summary>
    public string BufferPath { get; }

    /// <summary>Memfd mode: the buffer-region fd, sent first (§2.3). -1 otherwise.</summary>
    public int BufferFd { get; }

    /// <summary>Memfd mode: the queue fd, sent second (§2.3). -1 otherwise.</summary>
    public int QueueFd { get; }

    /// <summary>v2 file mapping, the Go client default (§3.1).</summary>
    public static ClientHandshakeRequest FilePathV2(string queuePath, string bufferPath) =>
        new(HandshakeMode.FilePathV2, queuePath, bufferPath, -1, -1);

    /// <summary>v3 file mapping with AckShareMemory (§3.3).</summary>
    public static ClientHandshakeRequest FilePathV3(string queuePath, string bufferPath) =>
        new(HandshakeMode.FilePathV3, queuePath, bufferPath, -1, -1);

    /// <summary>v3 memfd (§3.2). The names are labels only; the server gets the objects through the fds.</summary>
    public static ClientHandshakeRequest MemFdV3(string queueName, string bufferName, int bufferFd, int queueFd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bufferFd);
        ArgumentOutOfRangeException.ThrowIfNegative(queueFd);
        return new(HandshakeMode.MemFdV3, queueName, bufferName, bufferFd, queueFd);
    }

    public override string ToString() => $"{Mode}: queue '{QueuePath}', buffer '{BufferPath}'";
}
