namespace Shmipc.Channels.Inspection;

/// <summary>One object to inspect: where to open it and what it is called.</summary>
/// <param name="Path">The path to open: a /dev/shm file, <c>/proc/&lt;pid&gt;/fd/&lt;n&gt;</c>, or <c>/proc/&lt;pid&gt;/map_files/…</c>.</param>
/// <param name="Name">The object's own name: the file path, or the memfd's <c>/memfd:…</c> name without " (deleted)".</param>
/// <param name="Kind">What it holds, when the caller knows; null to decide from the name and the contents.</param>
internal sealed record RegionTarget(string Path, string Name, RegionKind? Kind = null);
