namespace Shmipc.Channels.Properties;

/// <summary>The values of one frame to encode; fields a kind does not carry are ignored.</summary>
public sealed record FrameSpec(FrameKind Kind, byte Version, uint StreamId, uint Status, ulong Epoch, byte[] Payload)
{
    public bool IsDataPhase => Kind <= FrameKind.HotRestartAck;

    public override string ToString() => Kind switch
    {
        FrameKind.StreamClose => $"StreamClose(v{Version}, {StreamId})",
        FrameKind.FallbackData => $"FallbackData(v{Version}, {StreamId}, status {Status}, {Payload.Length} bytes)",
        FrameKind.HotRestart or FrameKind.HotRestartAck => $"{Kind}(v{Version}, epoch {Epoch})",
        _ => $"{Kind}(v{Version})",
    };
}
