namespace Shmipc.Channels.Properties;

/// <summary>
/// Bytes a client sends a handshake server before it closes the connection, and how they were made (<see cref="Shape"/>:
/// well-formed, truncated, mutated or random).
/// </summary>
public sealed record HandshakeInputCase(byte[] Bytes, string Shape)
{
    public override string ToString() => $"{Shape}: {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(Bytes.Length, 64)))}{(Bytes.Length > 64 ? "..." : string.Empty)} ({Bytes.Length} bytes)";
}
