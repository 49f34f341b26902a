using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Sessions;

internal sealed partial class Session
{
    private Action<Session, ulong>? _hotRestartHandler;

    /// <summary>
    /// Who handles the peer's hot-restart frame: on a client session HotRestart(epoch) (the pool's coordinator), on a
    /// server session HotRestartAck(epoch) (the listener's hot restart). Called on the reactor thread, so it must not
    /// block. Without a handler the frame is ignored, as shmipc-go's plain sessions do.
    /// </summary>
    public void SetHotRestartHandler(Action<Session, ulong>? handler) => Volatile.Write(ref _hotRestartHandler, handler);

    /// <summary>Sends HotRestart(epoch) (server) or HotRestartAck(epoch) (client): 16 bytes on the socket, §2.7.</summary>
    /// <exception cref="ShmipcException">The session is closed, or the write failed (the session is then closed).</exception>
    public void SendHotRestartFrame(EventType type, ulong epoch)
    {
        Span<byte> frame = stackalloc byte[ProtocolConstants.HotRestartFrameLength];
        HotRestartFrame.Write(frame, Version, type, epoch);
        WriteSocket(frame);
    }

    /// <summary>Reactor thread: a hot-restart frame arrived. Only the direction shmipc defines is acted on.</summary>
    private void OnHotRestartFrame(EventType type, ulong epoch)
    {
        var expected = IsClient ? EventType.HotRestart : EventType.HotRestartAck;
        if (type == expected)
        {
            Volatile.Read(ref _hotRestartHandler)?.Invoke(this, epoch);
        }
    }
}
