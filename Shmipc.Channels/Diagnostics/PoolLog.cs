using Microsoft.Extensions.Logging;

namespace Shmipc.Channels.Diagnostics;

/// <summary>The client pool's and hot restart's log lines (category <c>Shmipc</c>, event ids from 100).</summary>
internal static partial class PoolLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "shmipc pool {Address}: slot {Slot} lost session {Session}: {Reason}; rebuilding in the background.")]
    public static partial void SlotLost(ILogger logger, string address, int slot, string session, string reason);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "shmipc pool {Address}: slot {Slot} rebuild failed: {Reason}; next try in {DelayMs} ms.")]
    public static partial void RebuildFailed(ILogger logger, string address, int slot, string reason, long delayMs);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "shmipc pool {Address}: slot {Slot} rebuilt with session {Session}.")]
    public static partial void Rebuilt(ILogger logger, string address, int slot, string session);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "shmipc pool {Address}: hot restart epoch {Epoch} from session {Session} ignored: {Why}.")]
    public static partial void HotRestartIgnored(ILogger logger, string address, ulong epoch, string session, string why);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "shmipc pool {Address}: hot restart epoch {Epoch} done; every slot moved, acknowledged on the old sessions.")]
    public static partial void HotRestartDone(ILogger logger, string address, ulong epoch);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "shmipc pool {Address}: hot restart epoch {Epoch} timed out; the old sessions are closed.")]
    public static partial void HotRestartTimedOut(ILogger logger, string address, ulong epoch);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "shmipc pool {Address}: hot restart epoch {Epoch}: slot {Slot} could not connect a new session: {Reason}.")]
    public static partial void HotRestartDialFailed(ILogger logger, string address, ulong epoch, int slot, string reason);
}
