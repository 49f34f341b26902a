using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Inspection;

/// <summary>A slice that is not on its list's free list: held by a lease, being written, queued, or leaked.</summary>
/// <param name="List">Index of its buffer list.</param>
/// <param name="Index">Its position in the list.</param>
/// <param name="Offset">Region offset of its header (the value queue elements and chain links carry).</param>
/// <param name="Size">The header's size field: valid data bytes.</param>
/// <param name="Flags">The header's flag byte (<see cref="SliceFlagHasNext"/> | <see cref="SliceFlagInUse"/>).</param>
/// <param name="Next">The absolute offset of the next slice of its message, when the HasNext flag is set.</param>
/// <param name="QueuedIn">Where a pending queue element reaches it (queue name, direction, stream), if one does.</param>
internal sealed record SliceReport(int List, long Index, uint Offset, uint Size, byte Flags, uint? Next, string? QueuedIn)
{
    /// <summary>The flags as words: "in-use", "has-next", or "none".</summary>
    public string FlagText => (Flags & (SliceFlagInUse | SliceFlagHasNext)) switch
    {
        SliceFlagInUse | SliceFlagHasNext => "in-use,has-next",
        SliceFlagInUse => "in-use",
        SliceFlagHasNext => "has-next",
        _ => "none",
    };
}
