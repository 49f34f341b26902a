using System.Globalization;

namespace Shmipc.Channels.Interop;

/// <summary>Who is at the other end of a Unix domain socket, as the kernel saw it at connect (or listen) time.</summary>
/// <param name="ProcessId">The peer's process id (in our pid namespace; 0 if it is not visible there).</param>
/// <param name="UserId">The peer's effective uid.</param>
/// <param name="GroupId">The peer's effective gid.</param>
internal readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    /// <summary>This process's effective uid.</summary>
    public static uint CurrentUserId => Interop.Libc.geteuid();

    /// <summary>"pid 123, uid 1000" for messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"pid {ProcessId}, uid {UserId}");
}
