namespace Shmipc.Channels.Properties;

/// <summary>Which part of one slice header in a chain a corruption case changes (docs/PROTOCOL.md §4.4, §4.8).</summary>
public enum ChainField
{
    /// <summary>cap := derived value (any value but capPerBuffer must be refused).</summary>
    Cap,

    /// <summary>size := derived value (start + size &gt; cap must be refused).</summary>
    Size,

    /// <summary>start := derived value (start + size &gt; cap must be refused).</summary>
    Start,

    /// <summary>flags := random byte (clearing HasNext truncates; setting it on the last slice follows a stale link).</summary>
    Flags,

    /// <summary>next := derived value, HasNext set.</summary>
    NextValue,

    /// <summary>next := an earlier slice of the chain or the slice itself: a loop, must be refused.</summary>
    NextLoop,

    /// <summary>next := a free slice (not in the chain).</summary>
    NextFreeSlice,

    /// <summary>next := an offset inside a slice, not at its header: must be refused.</summary>
    NextInsideSlice,

    /// <summary>next := an offset inside a list header: must be refused.</summary>
    NextListHeader,

    /// <summary>next := an offset past the last list (slack, past the mapping, up to u32 max): must be refused.</summary>
    NextPastLists,
}
