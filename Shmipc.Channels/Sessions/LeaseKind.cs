namespace Shmipc.Channels.Sessions;

/// <summary>What a lease core currently holds.</summary>
internal enum LeaseKind
{
    /// <summary>Nothing: it is in the pool.</summary>
    None = 0,

    /// <summary>A message from the peer.</summary>
    Received,

    /// <summary>A message being written.</summary>
    Writing,
}
