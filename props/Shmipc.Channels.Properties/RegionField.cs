namespace Shmipc.Channels.Properties;

/// <summary>A field of the buffer region (docs/PROTOCOL.md §4.4) that a hostile case corrupts.</summary>
public enum RegionField
{
    ListCount,
    UsedLength,
    ListSize,
    ListCap,
    ListHead,
    ListTail,
    ListCapPerBuffer,
    SliceCap,
    SliceNext,
    SliceFlags,
}
