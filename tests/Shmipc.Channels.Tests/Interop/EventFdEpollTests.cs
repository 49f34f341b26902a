using Shmipc.Channels.Interop;
using Xunit;

namespace Shmipc.Channels.Tests.Interop;

public class EventFdEpollTests
{
    [Fact]
    public void EventFd_signal_then_drain_once()
    {
        using var efd = EventFd.Create();
        Assert.False(efd.Drain());
        efd.Signal();
        efd.Signal();
        Assert.True(efd.Drain());
        Assert.False(efd.Drain());
    }

    [Fact]
    public void Epoll_reports_eventfd_and_socket_with_their_data()
    {
        using var epoll = EpollHandle.Create(8);
        using var efd = EventFd.Create();
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        {
            epoll.Add(efd.Fd, EpollHandle.EPOLLIN, 42);
            epoll.Add(a.Fd, EpollHandle.EPOLLIN | EpollHandle.EPOLLRDHUP, 0xFFFF_0000_0000_0007);
            Span<EpollEventData> events = stackalloc EpollEventData[8];
            Assert.Equal(0, epoll.Wait(events, 0));

            efd.Signal();
            Assert.Equal(1, b.TrySend("x"u8));
            int n = epoll.Wait(events, 5_000);
            Assert.Equal(2, n);
            Assert.Contains(new EpollEventData(EpollHandle.EPOLLIN, 42), events[..n].ToArray());
            Assert.Contains(new EpollEventData(EpollHandle.EPOLLIN, 0xFFFF_0000_0000_0007), events[..n].ToArray());

            // Edge-triggered eventfd: reported once, then quiet even while still readable.
            epoll.Modify(efd.Fd, EpollHandle.EPOLLIN | EpollHandle.EPOLLET, 43);
            epoll.Remove(a.Fd);
            n = epoll.Wait(events, 5_000);
            Assert.Equal(1, n);
            Assert.Equal(new EpollEventData(EpollHandle.EPOLLIN, 43), events[0]);
            Assert.Equal(0, epoll.Wait(events, 0));

            // Peer close shows up as RDHUP on the socket.
            epoll.Add(a.Fd, EpollHandle.EPOLLRDHUP, 7);
            b.Dispose();
            n = epoll.Wait(events, 5_000);
            Assert.Equal(1, n);
            Assert.Equal(7UL, events[0].Data);
            Assert.NotEqual(0u, events[0].Events & EpollHandle.EPOLLRDHUP);
        }

        epoll.Remove(12345); // unknown fd: ignored
    }

    [Fact]
    public void Epoll_add_bad_fd_throws_EBADF()
    {
        using var epoll = EpollHandle.Create();
        var e = Assert.Throws<ShmipcException>(() => epoll.Add(-5, EpollHandle.EPOLLIN, 0));
        Assert.Contains("EBADF", e.Message, StringComparison.Ordinal);
    }
}
