namespace Shmipc.Channels.Inspection;

/// <summary>One pending element of an IO queue (written by the producer, not yet consumed).</summary>
/// <param name="Index">Its queue index (head ≤ index &lt; tail).</param>
/// <param name="StreamId">The stream it belongs to.</param>
/// <param name="Offset">Region offset of the first slice of its message (0 for a close element).</param>
/// <param name="Status">The status word (low byte: 0 data, 1 close).</param>
internal sealed record QueueElementReport(long Index, uint StreamId, uint Offset, uint Status)
{
    /// <summary>True for a close notice (status low byte 1).</summary>
    public bool IsClose => (Status & 0xFF) == 1;
}
