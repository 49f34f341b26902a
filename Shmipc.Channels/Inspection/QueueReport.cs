namespace Shmipc.Channels.Inspection;

/// <summary>One IO queue of a queue pair as read from its 24-byte header, with its pending elements.</summary>
/// <param name="Direction">"client->server" (the first half, written by the client) or "server->client".</param>
/// <param name="Offset">Where the queue starts in the object.</param>
/// <param name="Capacity">The header's cap: element slots.</param>
/// <param name="Head">The consumer index.</param>
/// <param name="Tail">The producer index.</param>
/// <param name="WorkingFlag">1 while the consumer drains or a wake-up is outstanding, else 0.</param>
/// <param name="Pending">The elements between head and tail (at most <paramref name="Capacity"/>).</param>
internal sealed record QueueReport(string Direction, long Offset, uint Capacity, long Head, long Tail, uint WorkingFlag, IReadOnlyList<QueueElementReport> Pending)
{
    /// <summary>tail − head: elements produced and not yet consumed.</summary>
    public long PendingCount => Tail - Head;
}
