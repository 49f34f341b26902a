namespace Shmipc.Channels.Sessions;

/// <summary>
/// The order tag a Shmipc.NET writer puts in the reserved status bits of a queue element once its stream has sent
/// fallback frames: "deliver me after the n-th FallbackData frame of this stream". shmipc-go and shmipc-rs read only the
/// status's low byte (the stream state) and never set the upper bits, so they neither see nor send a tag.
/// </summary>
/// <remarks>
/// Layout of the 32-bit status: bits 0–7 stream state; bit 31 tagged; bits 8–30 the number of FallbackData frames of
/// the stream written to the socket before this element was put, modulo 2^23. The receiver counts the frames it
/// delivers per stream and holds a tagged element back until its count has reached the tag (compared modulo 2^23:
/// far fewer than 2^22 frames can be in flight, since each is at least 17 bytes in a socket buffer of a few MiB).
/// Together with the rule that the receiver drains the queue before handling a fallback frame (elements put before a
/// frame are delivered before it), every message of a stream is delivered in the order it was written, whichever path
/// each one took — so a stream can leave the socket path as soon as slices are free, without any timing assumption.
/// </remarks>
internal static class FallbackOrder
{
    private const uint TaggedBit = 0x8000_0000;
    private const int CountShift = 8;
    private const uint CountMask = 0x7F_FFFF;
    private const uint HalfRange = 0x40_0000;

    /// <summary>The status bits for an element put after <paramref name="fallbackFramesSent"/> frames (0: untagged, Go's bytes).</summary>
    public static uint Tag(int fallbackFramesSent) =>
        fallbackFramesSent == 0 ? 0 : TaggedBit | (((uint)fallbackFramesSent & CountMask) << CountShift);

    /// <summary>Whether an element with <paramref name="status"/> may be delivered after <paramref name="framesDelivered"/> frames.</summary>
    public static bool IsReady(uint status, uint framesDelivered)
    {
        if ((status & TaggedBit) == 0)
        {
            return true;
        }

        var needed = (status >> CountShift) & CountMask;
        return ((framesDelivered - needed) & CountMask) < HalfRange;
    }
}
