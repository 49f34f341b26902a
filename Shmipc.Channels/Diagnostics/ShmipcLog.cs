using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Shmipc.Channels.Diagnostics;

/// <summary>
/// Every log line the library writes, source-generated (<see cref="LoggerMessageAttribute"/>): nothing is formatted or
/// allocated when the level is off. One category, <c>Shmipc</c>, so one filter rule covers the library.
/// </summary>
internal static partial class ShmipcLog
{
    /// <summary>The category every logger of the library uses.</summary>
    public const string Category = "Shmipc";

    /// <summary>The logger for <paramref name="options"/>: <see cref="NullLogger.Instance"/> unless a factory was given.</summary>
    public static ILogger For(ShmipcOptions options) =>
        options.LoggerFactory?.CreateLogger(Category) ?? NullLogger.Instance;

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "shmipc session {Session} opened ({Role}, protocol v{Version}).")]
    public static partial void SessionOpened(ILogger logger, string session, string role, int version);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "shmipc session {Session} closed.")]
    public static partial void SessionClosed(ILogger logger, string session);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "shmipc session {Session} ended: {Reason}")]
    public static partial void SessionFaulted(ILogger logger, string session, string reason, Exception error);

    [LoggerMessage(EventId = 40, Level = LogLevel.Error, Message = "shmipc session {Session}: the peer truncated shared memory under this process: {Reason}")]
    public static partial void SharedMemoryTruncated(ILogger logger, string session, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "shmipc handshake failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string reason, Exception error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "shmipc session {Session}: a {Kind} lease of stream {StreamId} ({Length} bytes, {Slices} shared-memory slices) was garbage-collected without Dispose; its slices were returned to the free lists. Dispose every lease (using). {Origin}")]
    public static partial void LeaseLeaked(ILogger logger, string session, string kind, uint streamId, int length, int slices, string origin);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "shmipc session {Session}: the peer orders fallback frames (Shmipc.NET); streams return to shared memory after a fallback.")]
    public static partial void PeerOrdersFallback(ILogger logger, string session);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "shmipc session {Session}: stream {StreamId} entered fallback: its messages travel over the socket (shared memory was exhausted or a message was larger than any slice, or the peer's messages arrived over the socket).")]
    public static partial void FallbackEntered(ILogger logger, string session, uint streamId);
}
