namespace Shmipc.Channels.Properties;

/// <summary>Bytes fed to a FrameParser whose frame-length bound is <see cref="MaxFrameLength"/>.</summary>
public sealed record FrameBytesCase(byte[] Bytes, int MaxFrameLength)
{
    public override string ToString() => $"max {MaxFrameLength}: {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(Bytes.Length, 48)))}{(Bytes.Length > 48 ? "..." : string.Empty)} ({Bytes.Length} bytes)";
}
