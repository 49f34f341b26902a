namespace Shmipc.Inspect;

/// <summary>What shmipc-inspect's exit code says.</summary>
internal static class ExitCodes
{
    /// <summary>Every region read is consistent.</summary>
    public const int Consistent = 0;

    /// <summary>At least one region has an inconsistency.</summary>
    public const int Inconsistent = 1;

    /// <summary>Nothing could be inspected: no such process or file, no shmipc region found, or no permission.</summary>
    public const int Failed = 2;

    /// <summary>The command line is wrong (EX_USAGE).</summary>
    public const int Usage = 64;
}
