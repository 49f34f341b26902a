namespace Shmipc.Channels.Interop;

/// <summary>One ready event from <see cref="EpollHandle.Wait"/>, independent of the native epoll_event layout.</summary>
/// <param name="Events">The EPOLL* bits that are ready.</param>
/// <param name="Data">The 64-bit cookie given at registration.</param>
internal readonly record struct EpollEventData(uint Events, ulong Data);
