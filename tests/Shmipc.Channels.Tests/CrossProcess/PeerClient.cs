namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>A peer running <c>connect</c> against the test's listener, and the server session the test accepted for it.</summary>
public sealed record PeerClient(PeerProcess Process, ShmipcSession Session, string Prefix)
{
    /// <summary>The session name, the same on both sides (the client's queue name).</summary>
    public string Name => Session.Name;
}
