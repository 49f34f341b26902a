namespace Shmipc.Channels.Inspection;

/// <summary>Everything one inspection found: a report per object, and the objects that could not be read.</summary>
/// <param name="Regions">One report per distinct object.</param>
/// <param name="Errors">Objects that could not be opened, mapped or recognised, one sentence each.</param>
internal sealed record InspectionReport(IReadOnlyList<RegionReport> Regions, IReadOnlyList<string> Errors)
{
    /// <summary>True if any object has an inconsistency.</summary>
    public bool HasIssues => Regions.Any(r => !r.IsConsistent);
}
