namespace Shmipc.Channels.Sessions;

/// <summary>How a <see cref="RoomWaiter"/>'s wait ended.</summary>
internal enum RoomWaitOutcome
{
    /// <summary>The queue may have room (or the session closed): check again.</summary>
    Room = 0,

    /// <summary>The writer's token fired.</summary>
    Canceled = 1,

    /// <summary>WriteTimeout passed (found by the reactor's poll of waiting writers).</summary>
    TimedOut = 2,
}
