namespace Shmipc.Channels.Memory;

/// <summary>One validated piece of a received message: the bytes <c>[DataOffset, DataOffset + Length)</c> of the region.</summary>
/// <param name="SliceOffset">Region offset of the slice header (what <see cref="BufferManager.Recycle"/> takes).</param>
/// <param name="DataOffset">Region offset of the first valid byte (header + 20 + start).</param>
/// <param name="Length">Valid bytes; 0 for an empty slice inside a chain (docs/PROTOCOL.md §4.7, Reserve case 3).</param>
internal readonly record struct SliceSegment(uint SliceOffset, uint DataOffset, int Length);
