namespace Shmipc.Channels.Properties;

/// <summary>Model: one allocation the test currently owns (a single slice, an unlinked chain or a committed message).</summary>
internal sealed class HeldAllocation
{
    public HeldAllocation(uint[] slices, int[] lists, int stamp)
    {
        Slices = slices;
        Lists = lists;
        Stamp = stamp;
    }

    /// <summary>Slice header offsets in message order.</summary>
    public uint[] Slices { get; set; }

    /// <summary>The list index of each slice.</summary>
    public int[] Lists { get; set; }

    /// <summary>Seed of the byte pattern written into every slice's data when it was allocated.</summary>
    public int Stamp { get; }

    /// <summary>CommitChain has linked the slices into a message.</summary>
    public bool Committed { get; set; }

    public long MessageLength { get; set; }

    /// <summary>Valid bytes per slice after CommitChain.</summary>
    public int[] Lengths { get; set; } = [];
}
