namespace Shmipc.Channels.Inspection;

/// <summary>A pending data element of a queue, as the buffer inspection follows it into its region.</summary>
/// <param name="Offset">Region offset of the message's first slice.</param>
/// <param name="Label">Where it is queued (queue name, direction, index, stream), for the report.</param>
/// <param name="StillPending">Reads the queue's head again: false once the consumer has taken the element, so what its
/// slices look like now (recycled, relinked) says nothing about damage.</param>
internal sealed record QueuedMessage(uint Offset, string Label, Func<bool> StillPending);
