namespace Shmipc.Channels.Memory;

/// <summary>One 12-byte IO-queue element (docs/PROTOCOL.md §4.3).</summary>
/// <param name="StreamId">The stream id (Go <c>seqID</c>).</param>
/// <param name="Offset">Region offset of the first slice header of the message; 0 for a close element.</param>
/// <param name="Status">Stream state in the low byte (0 opened = data, 1 closed); bits 8–31 reserved.</param>
internal readonly record struct QueueElement(uint StreamId, uint Offset, uint Status)
{
    /// <summary>Status low byte of a data element (stream opened).</summary>
    public const uint StatusOpened = 0;

    /// <summary>Status low byte of a close notice.</summary>
    public const uint StatusClosed = 1;

    /// <summary>The element announces that the peer closed the stream (reserved status bits ignored).</summary>
    public bool IsClose => (Status & 0xFF) == StatusClosed;

    /// <summary>A data element for a message whose first slice header is at <paramref name="offset"/>.</summary>
    public static QueueElement Data(uint streamId, uint offset) => new(streamId, offset, StatusOpened);

    /// <summary>A close element: <c>{id, 0, 1}</c>.</summary>
    public static QueueElement Close(uint streamId) => new(streamId, 0, StatusClosed);
}
