namespace Shmipc.Channels.Inspection;

/// <summary>What the inspector found in one shared-memory object.</summary>
/// <param name="Source">The path it was opened by.</param>
/// <param name="Name">The object's own name (file path or <c>/memfd:…</c>).</param>
/// <param name="Length">Its size in bytes.</param>
/// <param name="Issues">Inconsistencies, one sentence each; empty when the object is consistent.</param>
/// <param name="Notes">What could not be checked on this pass (a list that changed during every read), one sentence each; not inconsistencies.</param>
internal abstract record RegionReport(string Source, string Name, long Length, IReadOnlyList<string> Issues, IReadOnlyList<string> Notes)
{
    /// <summary>What the object holds.</summary>
    public abstract RegionKind Kind { get; }

    /// <summary>True when nothing inconsistent was found.</summary>
    public bool IsConsistent => Issues.Count == 0;
}
