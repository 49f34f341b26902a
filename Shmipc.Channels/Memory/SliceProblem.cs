namespace Shmipc.Channels.Memory;

/// <summary>Why an offset is not a usable slice header (see <see cref="BufferManager.FindSlice"/>).</summary>
internal enum SliceProblem
{
    /// <summary>A slice header whose cap matches its list.</summary>
    None = 0,

    /// <summary>Not inside the slice region of any list (manager/list headers, slack, beyond the mapping).</summary>
    OutsideLists,

    /// <summary>Inside a slice region but not at a slice header (e.g. in a slice's data).</summary>
    NotAtHeader,

    /// <summary>At a slice header whose cap is not the list's capPerBuffer.</summary>
    CapMismatch,
}
