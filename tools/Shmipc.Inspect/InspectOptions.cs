using Shmipc.Channels.Inspection;

namespace Shmipc.Inspect;

/// <summary>One run's settings, from the command line.</summary>
/// <param name="Targets">Process ids and paths.</param>
/// <param name="Kind">The kind to read a path as, or null to decide from its name and contents.</param>
/// <param name="Json">JSON instead of text.</param>
/// <param name="Limit">Most slices and elements listed per list or queue in text.</param>
internal sealed record InspectOptions(IReadOnlyList<string> Targets, RegionKind? Kind, bool Json, int Limit);
