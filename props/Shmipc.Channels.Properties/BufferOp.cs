namespace Shmipc.Channels.Properties;

/// <summary>
/// One generated step. <see cref="Pick"/> selects a held allocation modulo the number held when the step runs,
/// so any subsequence of a scenario is still a valid scenario (which is what shrinking relies on).
/// </summary>
/// <param name="Kind">The operation.</param>
/// <param name="Size">Bytes to allocate, or the message length (modulo capacity + 1) for Commit.</param>
/// <param name="Pick">Which held allocation Recycle/Commit acts on; its parity also picks Recycle vs RecycleChain for single slices.</param>
/// <param name="ViaMapper">Run the step through the manager that mapped the region instead of the creator.</param>
/// <param name="SpanLimit">Length of the offsets span given to TryAllocateChain.</param>
public readonly record struct BufferOp(BufferOpKind Kind, int Size, int Pick, bool ViaMapper, int SpanLimit)
{
    public override string ToString() => Kind switch
    {
        BufferOpKind.Alloc => $"Alloc({Size}{Via})",
        BufferOpKind.AllocChain => $"AllocChain({Size}, span {SpanLimit}{Via})",
        BufferOpKind.Recycle => $"Recycle(#{Pick}{Via})",
        BufferOpKind.Commit => $"Commit(#{Pick}, {Size}{Via})",
        _ => "Remap",
    };

    private string Via => ViaMapper ? ", mapper" : string.Empty;
}
