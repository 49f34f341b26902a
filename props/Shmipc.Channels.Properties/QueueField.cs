namespace Shmipc.Channels.Properties;

/// <summary>A field of an IO-queue header (docs/PROTOCOL.md §4.3) that a hostile case corrupts.</summary>
public enum QueueField
{
    Cap,
    Head,
    Tail,
    WorkingFlag,
}
