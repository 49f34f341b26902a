namespace Shmipc.Channels.Inspection;

/// <summary>What a shmipc shared-memory object holds.</summary>
internal enum RegionKind
{
    /// <summary>The buffer region: size-classed free lists of slices (docs/PROTOCOL.md §4.4).</summary>
    Buffer,

    /// <summary>The queue pair of one session: two IO queues back to back (docs/PROTOCOL.md §4.3).</summary>
    Queue,
}
