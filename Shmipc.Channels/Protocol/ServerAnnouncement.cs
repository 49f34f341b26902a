namespace Shmipc.Channels.Protocol;

/// <summary>
/// What a server learned from a client's handshake (<see cref="HandshakeServer.ReceiveAnnouncement"/>): the protocol
/// version, the mode, the two paths or memfd names and, in memfd mode, the two received fds.
/// </summary>
/// <remarks>
/// <para>Fd ownership: the received fds belong to this object until <see cref="TakeFds"/> hands them over (the caller then
/// wraps them in SafeHandles). <see cref="CloseFds"/> closes whatever was not taken, with the close delegate given
/// to <see cref="HandshakeServer.ReceiveAnnouncement"/>; call it on every path where the fds were not taken.
/// Both methods are idempotent and thread-safe.</para>
/// <para>The handshake deadline keeps running: mapping the memory and <see cref="HandshakeServer.Acknowledge"/> must
/// fit into what is left of it (shmipc's <c>InitializeTimeout</c> covers the whole initialisation, §3).</para>
/// </remarks>
internal sealed class ServerAnnouncement
{
    private readonly Action<int> _closeFd;
    private int _bufferFd;
    private int _queueFd;

    internal ServerAnnouncement(
        byte version, HandshakeMode mode, ShareMemoryAnnouncement paths, int bufferFd, int queueFd, Action<int> closeFd, HandshakeDeadline deadline)
    {
        Version = version;
        Mode = mode;
        QueuePath = paths.QueuePath;
        BufferPath = paths.BufferPath;
        _bufferFd = bufferFd;
        _queueFd = queueFd;
        _closeFd = closeFd;
        Deadline = deadline;
    }

    /// <summary>The negotiated protocol version, 2 or 3; every later frame of this session carries it.</summary>
    public byte Version { get; }

    public HandshakeMode Mode { get; }

    /// <summary>Queue file path (file modes) or the queue memfd's logical name.</summary>
    public string QueuePath { get; }

    /// <summary>Buffer-region file path (file modes) or the region memfd's logical name (a key for sharing one region, §2.3).</summary>
    public string BufferPath { get; }

    /// <summary>Memfd mode: the received buffer-region fd while this object still owns it; otherwise -1.</summary>
    public int BufferFd => Volatile.Read(ref _bufferFd);

    /// <summary>Memfd mode: the received queue fd while this object still owns it; otherwise -1.</summary>
    public int QueueFd => Volatile.Read(ref _queueFd);

    /// <summary>The time left of the handshake deadline, for mapping and <see cref="HandshakeServer.Acknowledge"/>.</summary>
    public TimeSpan RemainingTime => Deadline.IsInfinite ? Timeout.InfiniteTimeSpan : Deadline.Timeout - Deadline.Elapsed;

    internal HandshakeDeadline Deadline { get; }

    /// <summary>Transfers both fds to the caller (memfd mode only); afterwards this object closes nothing.</summary>
    /// <exception cref="InvalidOperationException">Not memfd mode, or the fds were already taken or closed.</exception>
    public (int BufferFd, int QueueFd) TakeFds()
    {
        int bufferFd = Interlocked.Exchange(ref _bufferFd, -1);
        int queueFd = Interlocked.Exchange(ref _queueFd, -1);
        if (bufferFd < 0 || queueFd < 0)
        {
            CloseIfOpen(bufferFd);
            CloseIfOpen(queueFd);
            throw new InvalidOperationException(Mode == HandshakeMode.MemFdV3
                ? "The received fds were already taken or closed."
                : $"A {Mode} handshake carries no fds.");
        }

        return (bufferFd, queueFd);
    }

    /// <summary>Closes the fds not taken with <see cref="TakeFds"/>. Idempotent.</summary>
    public void CloseFds()
    {
        CloseIfOpen(Interlocked.Exchange(ref _bufferFd, -1));
        CloseIfOpen(Interlocked.Exchange(ref _queueFd, -1));
    }

    private void CloseIfOpen(int fd)
    {
        if (fd >= 0)
        {
            _closeFd(fd);
        }
    }

    public override string ToString() => $"v{Version} {Mode}: queue '{QueuePath}', buffer '{BufferPath}'";
}
