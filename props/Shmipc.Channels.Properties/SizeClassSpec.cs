namespace Shmipc.Channels.Properties;

/// <summary>One generated buffer size class: slice data capacity and its percent of the region.</summary>
public readonly record struct SizeClassSpec(int SliceSize, int Percent)
{
    public override string ToString() => $"{SliceSize}:{Percent}%";
}
