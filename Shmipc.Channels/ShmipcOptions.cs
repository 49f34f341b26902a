using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Shmipc.Channels;

/// <summary>Settings shared by clients and servers. Validated when a session starts.</summary>
public abstract class ShmipcOptions
{
    private protected ShmipcOptions()
    {
    }

    /// <summary>
    /// Time allowed for the whole handshake (shmipc <c>InitializeTimeout</c>). Default 1 second, as shmipc-go.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a write may wait: for room in the IO queue, or for the socket to take a fallback frame
    /// (shmipc <c>ConnectionWriteTimeout</c>). Default 10 seconds. <see cref="Timeout.InfiniteTimeSpan"/> waits forever.
    /// </summary>
    /// <remarks>A wait for queue room ends with <see cref="ShmipcErrorCode.Timeout"/> within about 50 ms after the timeout
    /// (the reactor's poll of waiting writers finds it); it costs no timer.</remarks>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How the reactor waits for traffic. Default <see cref="PollingMode.Balanced"/>.</summary>
    public PollingMode PollingMode { get; set; } = PollingMode.Balanced;

    /// <summary>
    /// The largest frame on the socket, in bytes, in both directions (fallback data is the only large frame). A larger
    /// frame from the peer closes the session with a <see cref="ShmipcException"/>; a message that would need a larger
    /// frame is refused at the writer (<see cref="ShmipcErrorCode.MessageTooLarge"/>) before anything is sent, and the
    /// session stays usable. Give both peers the same value. Default 64 MiB (a message of at most 64 MiB − 16 bytes
    /// travels over the socket when shared memory cannot hold it).
    /// </summary>
    public int MaxFrameLength { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// The receive budget in bytes: how much a session holds for its readers (messages delivered to the streams'
    /// <see cref="ShmipcStream.Input"/> and not taken yet). When it is used up the session stops reading its socket and
    /// its IO queue until readers take messages, so the peer's writers wait instead of this process's memory growing.
    /// The budget is shared by the session's streams (one unread stream holds up the others). One message larger than
    /// the budget is still delivered. Default 64 MiB.
    /// </summary>
    public long ReceiveBudgetBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The receive budget in messages (see <see cref="ReceiveBudgetBytes"/>; whichever is reached first pauses the
    /// session). Default 16384, twice the default IO queue capacity.
    /// </summary>
    public int ReceiveBudgetMessages { get; set; } = 16384;

    /// <summary>
    /// Whether a reader waiting on a stream's <see cref="ShmipcStream.Input"/> is resumed on the reactor thread itself
    /// (no thread hop: lowest latency) instead of the thread pool. Only for readers that never block: a blocked
    /// continuation stalls every session of the process. Default false.
    /// </summary>
    /// <remarks>
    /// With the default (false) no user code runs on the reactor: a waiting reader spins briefly on its own thread
    /// (the <see cref="PollingMode"/> budget) and takes the session's messages from shared memory itself, so a reply
    /// usually reaches it without a thread hop; a reader that parked is resumed on the thread pool. A reader that blocks
    /// in its own code then stalls its stream, a thread-pool thread and, once it has left the receive budget
    /// (<see cref="ReceiveBudgetBytes"/>) full, its session's receive side; never the reactor or other sessions.
    /// </remarks>
    public bool RunContinuationsOnReactor { get; set; }

    /// <summary>
    /// Where sessions log what happens to them (opened, closed, faulted with the cause, handshake failures). Null (the
    /// default) logs nothing; nothing is allocated for a level that is off.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Where the <c>Shmipc</c> meter comes from: a host's <see cref="IMeterFactory"/> (from dependency injection) makes
    /// the meter its listeners see and owns its lifetime. Null (the default) uses one static <c>Shmipc</c> meter for the
    /// process. Either way every instrument is tagged <c>shmipc.session</c> and <c>shmipc.session.role</c>.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// What a writer does when shared memory has no free slice for its message. Default
    /// <see cref="ExhaustionPolicy.Fallback"/> (over the socket, as shmipc does).
    /// </summary>
    public ExhaustionPolicy ExhaustionPolicy { get; set; } = ExhaustionPolicy.Fallback;

    /// <summary>
    /// Whether to record where each lease was rented or read (a stack trace per message: for diagnosis only), so a
    /// lease collected without <see cref="ShmLease.Dispose"/> is reported with that place. Leaked leases are reported
    /// (log and the <c>shmipc.leases_leaked</c> counter) and their slices returned either way. Default false.
    /// </summary>
    public bool TrackLeaseOrigins { get; set; }

    /// <summary>Checks the settings and throws <see cref="ShmipcException"/> with <see cref="ShmipcErrorCode.InvalidConfiguration"/> on the first bad one.</summary>
    public virtual void Validate()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new ShmipcException(ShmipcErrorCode.PlatformNotSupported, "shmipc needs Linux (memfd, epoll, SCM_RIGHTS).");
        }

        var arch = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture;
        if (arch is not (System.Runtime.InteropServices.Architecture.X64 or System.Runtime.InteropServices.Architecture.Arm64))
        {
            throw new ShmipcException(ShmipcErrorCode.PlatformNotSupported, $"shmipc supports x64 and arm64, not {arch}.");
        }

        Require(HandshakeTimeout > TimeSpan.Zero, $"{nameof(HandshakeTimeout)} must be positive, not {HandshakeTimeout}.");
        Require(WriteTimeout > TimeSpan.Zero || WriteTimeout == Timeout.InfiniteTimeSpan, $"{nameof(WriteTimeout)} must be positive or infinite, not {WriteTimeout}.");
        Require(MaxFrameLength >= 4096, $"{nameof(MaxFrameLength)} must be at least 4096 bytes, not {MaxFrameLength}.");
        Require(ReceiveBudgetBytes > 0, $"{nameof(ReceiveBudgetBytes)} must be positive, not {ReceiveBudgetBytes}.");
        Require(ReceiveBudgetMessages > 0, $"{nameof(ReceiveBudgetMessages)} must be positive, not {ReceiveBudgetMessages}.");
        Require(Enum.IsDefined(PollingMode), $"{nameof(PollingMode)} {PollingMode} is not defined.");
        Require(Enum.IsDefined(ExhaustionPolicy), $"{nameof(ExhaustionPolicy)} {ExhaustionPolicy} is not defined.");
    }

    /// <summary>Throws an <see cref="ShmipcErrorCode.InvalidConfiguration"/> exception unless <paramref name="condition"/> holds.</summary>
    /// <param name="condition">The rule.</param>
    /// <param name="message">What is wrong when it does not hold.</param>
    private protected static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ShmipcException(ShmipcErrorCode.InvalidConfiguration, message);
        }
    }
}
