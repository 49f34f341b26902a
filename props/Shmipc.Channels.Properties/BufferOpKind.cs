namespace Shmipc.Channels.Properties;

/// <summary>What one step of a buffer-manager scenario does.</summary>
public enum BufferOpKind
{
    /// <summary>TryAllocate(size): one slice.</summary>
    Alloc,

    /// <summary>TryAllocateChain(size, span of SpanLimit): one or more unlinked slices.</summary>
    AllocChain,

    /// <summary>Recycle a held slice or chain chosen by Pick (Recycle, or RecycleChain for committed chains).</summary>
    Recycle,

    /// <summary>CommitChain on a held, uncommitted allocation chosen by Pick, message length from Size.</summary>
    Commit,

    /// <summary>Map the region again and compare the fresh mapper's lists with the creator's.</summary>
    Remap,
}
