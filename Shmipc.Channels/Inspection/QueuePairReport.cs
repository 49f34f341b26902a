namespace Shmipc.Channels.Inspection;

/// <summary>A session's queue pair: the client→server queue in the first half, server→client in the second.</summary>
/// <param name="Source">The path it was opened by.</param>
/// <param name="Name">The object's own name.</param>
/// <param name="Length">Its size in bytes.</param>
/// <param name="Issues">Inconsistencies found.</param>
/// <param name="Layout">The header layout used to read it ("amd64" or "arm64", this machine's).</param>
/// <param name="Queues">The two queues, client→server first (empty when the object is too small to hold them).</param>
internal sealed record QueuePairReport(string Source, string Name, long Length, IReadOnlyList<string> Issues, string Layout, IReadOnlyList<QueueReport> Queues)
    : RegionReport(Source, Name, Length, Issues, [])
{
    /// <inheritdoc/>
    public override RegionKind Kind => RegionKind.Queue;
}
