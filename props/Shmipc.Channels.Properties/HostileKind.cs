namespace Shmipc.Channels.Properties;

/// <summary>How a hostile shared-memory image is made.</summary>
public enum HostileKind
{
    /// <summary>Uniformly random bytes.</summary>
    RandomBytes,

    /// <summary>Random bytes with headers shaped like the real ones (small counts, offsets on slice boundaries,
    /// lengths that add up), so mapping often succeeds and the garbage is met by later operations.</summary>
    PlausibleHeaders,

    /// <summary>A valid image made by Create with exactly one header field changed.</summary>
    CorruptedField,
}
