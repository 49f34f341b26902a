namespace Shmipc.Channels.Sessions;

/// <summary>A queue element that arrived ahead of fallback frames sent before it: a message, or a close notice (no core).</summary>
internal readonly record struct HeldMessage(LeaseCore? Core, uint Status);
