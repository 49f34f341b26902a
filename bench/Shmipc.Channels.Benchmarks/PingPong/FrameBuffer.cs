namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>A growable byte buffer for one UDS connection (length-prefixed frames: [int32 LE length][payload]).</summary>
internal sealed class FrameBuffer(int capacity)
{
    public const int PrefixSize = 4;

    public byte[] Array { get; private set; } = new byte[Math.Max(capacity, 64)];

    /// <summary>Grows to at least <paramref name="capacity"/> bytes, keeping the first <paramref name="keep"/> bytes.</summary>
    public void Ensure(int capacity, int keep)
    {
        if (Array.Length >= capacity)
        {
            return;
        }

        var bigger = new byte[Math.Max(capacity, Array.Length * 2)];
        Array.AsSpan(0, keep).CopyTo(bigger);
        Array = bigger;
    }
}
