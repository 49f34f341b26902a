using System.Runtime.CompilerServices;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Memory;

/// <summary>A snapshot of one 20-byte slice header (docs/PROTOCOL.md §4.4), read with plain loads.</summary>
/// <param name="Cap">Data capacity of the slice.</param>
/// <param name="Size">Valid data bytes.</param>
/// <param name="Start">Offset of the first valid byte in the data area.</param>
/// <param name="Next">Next slice (relative while free, absolute in a message); meaningful only if <see cref="HasNext"/>.</param>
/// <param name="Flags">The flag byte at +16.</param>
internal readonly record struct SliceHeader(uint Cap, uint Size, uint Start, uint Next, byte Flags)
{
    /// <summary>The <c>next</c> field is valid.</summary>
    public bool HasNext => (Flags & SliceFlagHasNext) != 0;

    /// <summary>The slice was handed out by an allocator (informational only).</summary>
    public bool InUse => (Flags & SliceFlagInUse) != 0;

    /// <summary>Reads the header at <paramref name="header"/>; the caller has checked that 20 bytes are mapped there.</summary>
    /// <remarks>Plain (unaligned-safe) loads: headers are published by the queue tail increment or the list CAS
    /// that the caller performed or observed before (docs/PROTOCOL.md §4.9).</remarks>
    public static unsafe SliceHeader Read(byte* header) => new(
        Unsafe.ReadUnaligned<uint>(header + SliceCapOffset),
        Unsafe.ReadUnaligned<uint>(header + SliceSizeOffset),
        Unsafe.ReadUnaligned<uint>(header + SliceStartOffset),
        Unsafe.ReadUnaligned<uint>(header + SliceNextOffset),
        header[SliceFlagsOffset]);
}
