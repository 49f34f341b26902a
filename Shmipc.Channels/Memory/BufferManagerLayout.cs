namespace Shmipc.Channels.Memory;

/// <summary>
/// The byte layout of the shmipc buffer region (docs/PROTOCOL.md §4.4): the one place that knows where every field lives.
/// All integers are native-endian (little-endian on every supported CPU); offsets are from the start of the
/// structure named in each group.
/// </summary>
/// <remarks>
/// These layouts are fixed by shmipc-go/shmipc-rs and must stay byte-exact, so nothing is padded to cache lines
/// (docs/CONTRIBUTING.md, habit 15): a padded header would be a different wire format.
/// <code>
/// region:  [manager header 8][list 0 header 36][slice 0: header 20 + data cap]...[list 1 header 36]...[unused slack]
/// </code>
/// </remarks>
internal static class BufferManagerLayout
{
    // Manager header (8 bytes at region offset 0).

    /// <summary>Size of the buffer-manager header.</summary>
    public const int ManagerHeaderSize = 8;

    /// <summary>u16: number of buffer lists.</summary>
    public const int ListCountOffset = 0;

    /// <summary>u16: reserved ("version" in the spec); Go and Rust leave it 0.</summary>
    public const int ReservedOffset = 2;

    /// <summary>u32: bytes used by all lists after the manager header.</summary>
    public const int UsedLengthOffset = 4;

    // Buffer-list header (36 bytes at list offset L; the slice region R starts at L + 36).

    /// <summary>Size of a buffer-list header.</summary>
    public const int ListHeaderSize = 36;

    /// <summary>i32: number of free slices (atomic add).</summary>
    public const int ListSizeOffset = 0;

    /// <summary>u32: total number of slices in the list.</summary>
    public const int ListCapOffset = 4;

    /// <summary>u32: first free slice, relative to R (CAS by allocators).</summary>
    public const int ListHeadOffset = 8;

    /// <summary>u32: last free slice, relative to R (CAS by recyclers).</summary>
    public const int ListTailOffset = 12;

    /// <summary>u32: data capacity of every slice of the list.</summary>
    public const int ListCapPerBufferOffset = 16;

    /// <summary>i32: pop/push counter as bumped by the process that created the region (the client).</summary>
    public const int ListCreatorCounterOffset = 20;

    /// <summary>i32: pop/push counter as bumped by a process that mapped the region (the server). Go quirk §14.6.</summary>
    public const int ListMapperCounterOffset = 24;

    // Slice header (20 bytes, followed by cap data bytes).

    /// <summary>Size of a slice header.</summary>
    public const int SliceHeaderSize = 20;

    /// <summary>u32: data capacity (= the list's capPerBuffer); never changes after creation.</summary>
    public const int SliceCapOffset = 0;

    /// <summary>u32: number of valid data bytes.</summary>
    public const int SliceSizeOffset = 4;

    /// <summary>u32: offset of the first valid byte in the data area (always written 0).</summary>
    public const int SliceStartOffset = 8;

    /// <summary>u32: next slice; relative to R while free, absolute while in a message. Valid only with HasNext.</summary>
    public const int SliceNextOffset = 12;

    /// <summary>byte: <see cref="SliceFlagHasNext"/> | <see cref="SliceFlagInUse"/>; bytes +17..+19 unused.</summary>
    public const int SliceFlagsOffset = 16;

    /// <summary>Flag bit: the <c>next</c> field is valid.</summary>
    public const byte SliceFlagHasNext = 1;

    /// <summary>Flag bit: the slice was handed out by an allocator (informational).</summary>
    public const byte SliceFlagInUse = 2;

    /// <summary>Distance between two slice headers of a list whose slices hold <paramref name="capPerBuffer"/> bytes.</summary>
    public static ulong Stride(uint capPerBuffer) => (ulong)capPerBuffer + SliceHeaderSize;

    /// <summary>Bytes a list occupies: its header plus <paramref name="sliceCount"/> slices (64-bit; cannot overflow for the validated capPerBuffer ≤ int.MaxValue − 20).</summary>
    public static ulong ListBytes(uint sliceCount, uint capPerBuffer) => ListHeaderSize + (sliceCount * Stride(capPerBuffer));
}
