namespace Shmipc.Channels.Properties;

/// <summary>
/// One hostile input for a real client session: <see cref="Kind"/>, the socket bytes (for frames), the message size
/// (for chains), and the offset, field (0 size, 1 start, 2 next, 3 flags) and value a mutation uses.
/// </summary>
public sealed record SessionInputCase(SessionInputKind Kind, byte[] Frame, int Size, uint Offset, int Field, uint Value)
{
    public override string ToString() => Kind switch
    {
        SessionInputKind.FrameBytes => $"{Kind}: {Convert.ToHexString(Frame.AsSpan(0, Math.Min(Frame.Length, 48)))}{(Frame.Length > 48 ? "..." : string.Empty)} ({Frame.Length} bytes)",
        SessionInputKind.OutOfRangeElement => $"{Kind}: offset 0x{Offset:X8}",
        SessionInputKind.MutatedChain => $"{Kind}: {Size} bytes, field {Field} = 0x{Value:X8}",
        _ => $"{Kind}: {Size} bytes, stream 0x{Value:X8}",
    };
}
