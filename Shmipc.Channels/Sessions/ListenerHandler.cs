using Shmipc.Channels.Interop;
using Shmipc.Channels.Reactor;

namespace Shmipc.Channels.Sessions;

/// <summary>The listening socket on the reactor: accepts connections and hands each to a handshake task.</summary>
internal sealed class ListenerHandler(SocketFd socket, Action<SocketFd> onAccepted, Action<Exception> onFailed) : IReactorHandler
{
    public int Fd => socket.Fd;

    public uint Events => EpollHandle.EPOLLIN;

    public bool HasWaiters => false;

    public bool ReadersSpinning => false;

    public long SpinTicks => 0;

    public bool OnReady(uint events)
    {
        var any = false;
        while (socket.TryAccept() is { } connection)
        {
            any = true;
            onAccepted(connection);
        }

        return any;
    }

    public bool Poll() => false;

    public void EnterSpin()
    {
    }

    public bool TryPark() => true;

    public void OnFault(Exception error) => onFailed(error);

    public void OnRemoved()
    {
    }
}
