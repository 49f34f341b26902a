namespace Shmipc.Channels.Properties;

/// <summary>How the replacement value of a corrupted field is derived from the operand.</summary>
public enum CorruptionMode
{
    /// <summary>The operand itself.</summary>
    Random,

    /// <summary>The original value ± a few (including ±0: the field stays valid).</summary>
    Delta,

    /// <summary>The original value ± a few strides (another slice boundary, possibly outside the list).</summary>
    StrideMultiple,

    /// <summary>A value from a table of bounds: 0, 1, max, sign bit, the mapping length and its neighbours.</summary>
    Special,
}
