using System.Net;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Xunit;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Tests.Interop;

public sealed class SocketFdTests : IDisposable
{
    private static readonly TimeSpan Timeout5s = TimeSpan.FromSeconds(5);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("shmipc-test-interop-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Pair_round_trip()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        {
            Assert.True(a.IsUnix);
            byte[] payload = new byte[300_000]; // larger than the socket buffer: SendAll must wait for the reader
            new Random(1).NextBytes(payload);
            byte[] received = new byte[payload.Length];
            var reader = Task.Run(() => b.ReceiveExactly(received, Timeout5s));
            a.SendAll(payload, Timeout5s);
            await reader;
            Assert.Equal(payload, received);
            Assert.Equal(-1, b.TryReceive(new byte[1]));
        }
    }

    [Fact]
    public unsafe void SendWithFds_passes_memfd_and_second_fd()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        using (var region = SharedRegion.CreateMemFd($"shmipc-test-interop-{Environment.ProcessId}", 8192))
        using (var efd = EventFd.Create())
        {
            a.SendWithFds(new byte[] { 0 }, [region.FileDescriptor, efd.Handle], Timeout5s);

            byte[] one = new byte[1];
            Span<int> fds = stackalloc int[2];
            int n = b.ReceiveWithFds(one, fds, out int controlLength, out int fdCount, Timeout5s);
            Assert.Equal(1, n);
            Assert.Equal(0, one[0]);
            Assert.Equal(24, controlLength);
            Assert.Equal(2, fdCount);

            using var second = new SafeFdHandle(fds[1], ownsHandle: true);
            using var mapped = SharedRegion.OpenFd(new SafeFdHandle(fds[0], ownsHandle: true), "received");
            Assert.Equal(region.Length, mapped.Length);
            "shared!"u8.CopyTo(region.GetSpan(4096, 7));
            Assert.True(mapped.GetSpan(4096, 7).SequenceEqual("shared!"u8));
            mapped.Base[10] = 0xAB;
            Assert.Equal(0xAB, region.Base[10]);

            // The received eventfd is the same object: signalling it is visible to the original.
            var received = Native.Write(second, BitConverter.GetBytes(1UL), "write");
            Assert.Equal(8, received);
            Assert.True(efd.Drain());
        }
    }

    [Fact]
    public void ReceiveWithFds_keeps_two_of_three_fds_like_go()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        using (var e1 = EventFd.Create())
        using (var e2 = EventFd.Create())
        using (var e3 = EventFd.Create())
        {
            a.SendWithFds([0], [e1.Fd, e2.Fd, e3.Fd], Timeout5s);
            Span<int> fds = stackalloc int[2];
            Assert.Equal(1, b.ReceiveWithFds(new byte[1], fds, out int controlLength, out int fdCount, Timeout5s));
            Assert.Equal(24, controlLength);
            Assert.Equal(2, fdCount);
            new SafeFdHandle(fds[0], true).Dispose();
            new SafeFdHandle(fds[1], true).Dispose();
        }
    }

    [Fact]
    public void TrySend_to_closed_peer_throws_PeerClosed()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        {
            b.Dispose();
            var e = Assert.Throws<ShmipcException>(() => a.TrySend("x"u8));
            Assert.Equal(ShmipcErrorCode.PeerClosed, e.ErrorCode);
            Assert.Contains("EPIPE", e.Message, StringComparison.Ordinal);
            Assert.Equal(0, a.TryReceive(new byte[1])); // EOF
        }
    }

    [Fact]
    public void ReceiveExactly_times_out_then_reports_eof()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        {
            a.SendAll([1, 2], Timeout5s);
            var e = Assert.Throws<ShmipcException>(() => b.ReceiveExactly(new byte[4], TimeSpan.FromMilliseconds(30)));
            Assert.Equal(ShmipcErrorCode.Timeout, e.ErrorCode);
            Assert.Contains("2 of 4", e.Message, StringComparison.Ordinal);

            a.SendAll([3], Timeout5s);
            a.Shutdown();
            a.Shutdown();
            e = Assert.Throws<ShmipcException>(() => b.ReceiveExactly(new byte[4], Timeout5s));
            Assert.Equal(ShmipcErrorCode.PeerClosed, e.ErrorCode);
            Assert.Contains("1 of 4", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unix_listen_connect_accept_and_cleanup()
    {
        string path = Path.Combine(_dir.FullName, "s.sock");
        using (var listener = SocketFd.ListenUnix(path, 16))
        {
            Assert.Null(listener.TryAccept());
            using var client = SocketFd.ConnectUnix(path, Timeout5s);
            Assert.NotEqual(0, Poll.Wait(listener.Handle, Native.POLLIN, Deadline.FromTimeout(Timeout5s)));
            using var server = listener.TryAccept();
            Assert.NotNull(server);
            Assert.True(server.IsUnix);
            client.SendAll("ping"u8, Timeout5s);
            byte[] buffer = new byte[4];
            server.ReceiveExactly(buffer, Timeout5s);
            Assert.Equal("ping"u8.ToArray(), buffer);

            // A live listener is not replaced (its probe connection is all the old listener sees).
            var e = Assert.Throws<ShmipcException>(() => SocketFd.ListenUnix(path, 16));
            Assert.Contains("EADDRINUSE", e.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(path));
        var refused = Assert.Throws<ShmipcException>(() => SocketFd.ConnectUnix(path, Timeout5s));
        Assert.Equal(Native.Errno.ENOENT, refused.Errno);
    }

    [Fact]
    public unsafe void ListenUnix_replaces_stale_socket_but_not_other_files()
    {
        string path = Path.Combine(_dir.FullName, "stale.sock");

        // A socket file nobody listens on any more (bound, then closed without unlink).
        var addr = SocketAddresses.Unix(path, out uint len);
        using (var raw = new SafeFdHandle(Native.Libc.socket(Native.AF_UNIX, Native.SOCK_STREAM, 0), true))
        {
            Assert.Equal(0, Native.Libc.bind(raw, &addr, len));
        }

        Assert.True(File.Exists(path));
        var e = Assert.Throws<ShmipcException>(() => SocketFd.ConnectUnix(path, Timeout5s));
        Assert.Equal(Native.Errno.ECONNREFUSED, e.Errno);
        using (SocketFd.ListenUnix(path, 4))
        {
        }

        string file = Path.Combine(_dir.FullName, "regular");
        File.WriteAllText(file, "keep me");
        e = Assert.Throws<ShmipcException>(() => SocketFd.ListenUnix(file, 4));
        Assert.Contains("not a socket", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(file));
    }

    [Fact]
    public void Tcp_loopback_port_zero()
    {
        using var listener = SocketFd.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0), 16);
        IPEndPoint local = listener.LocalEndPoint;
        Assert.Equal(IPAddress.Loopback, local.Address);
        Assert.NotEqual(0, local.Port);
        Assert.False(listener.IsUnix);

        using var client = SocketFd.ConnectTcp(local, Timeout5s);
        Assert.NotEqual(0, Poll.Wait(listener.Handle, Native.POLLIN, Deadline.FromTimeout(Timeout5s)));
        using var server = listener.TryAccept();
        Assert.NotNull(server);
        server.SendAll("pong"u8, Timeout5s);
        byte[] buffer = new byte[4];
        client.ReceiveExactly(buffer, Timeout5s);
        Assert.Equal("pong"u8.ToArray(), buffer);
        var (p1, p2) = SocketFd.CreatePair();
        using (p1)
        using (p2)
        {
            Assert.Throws<InvalidOperationException>(() => p1.LocalEndPoint);
        }
    }

    [Fact]
    public void Tcp_connect_refused_reports_ECONNREFUSED()
    {
        int port;
        using (var listener = SocketFd.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0), 1))
        {
            port = listener.LocalEndPoint.Port;
        }

        var e = Assert.Throws<ShmipcException>(() => SocketFd.ConnectTcp(new IPEndPoint(IPAddress.Loopback, port), Timeout5s));
        Assert.Equal(Native.Errno.ECONNREFUSED, e.Errno);
    }

    [Fact]
    public void ConnectUnix_times_out_while_backlog_is_full()
    {
        string path = Path.Combine(_dir.FullName, "full.sock");
        using var listener = SocketFd.ListenUnix(path, 0);
        using var first = SocketFd.ConnectUnix(path, Timeout5s); // fills the zero-length backlog
        var e = Assert.Throws<ShmipcException>(() => SocketFd.ConnectUnix(path, TimeSpan.FromMilliseconds(30)));
        Assert.Equal(ShmipcErrorCode.Timeout, e.ErrorCode);
    }

    [Fact]
    public void Every_fd_is_close_on_exec_and_sockets_are_non_blocking()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        using (var efd = EventFd.Create())
        using (var epoll = EpollHandle.Create())
        using (var region = SharedRegion.CreateMemFd("shmipc-test-cloexec", 4096))
        {
            a.SendWithFds([0], [efd.Fd], Timeout5s);
            Span<int> fds = stackalloc int[1];
            b.ReceiveWithFds(new byte[1], fds, out _, out int count, Timeout5s);
            Assert.Equal(1, count);
            using var received = new SafeFdHandle(fds[0], ownsHandle: true);
            foreach (SafeFdHandle fd in new[] { a.Handle, efd.Handle, epoll.Handle, region.FileDescriptor, received })
            {
                Assert.Equal(Native.FD_CLOEXEC, Native.Libc.fcntl_int(fd, Native.F_GETFD, 0) & Native.FD_CLOEXEC);
            }

            Assert.Equal(Native.O_NONBLOCK, Native.Libc.fcntl_int(a.Handle, Native.F_GETFL, 0) & Native.O_NONBLOCK);
            a.SetNonBlocking(false);
            Assert.Equal(0, Native.Libc.fcntl_int(a.Handle, Native.F_GETFL, 0) & Native.O_NONBLOCK);
            Assert.Equal(-1, a.TryReceive(new byte[1])); // MSG_DONTWAIT: still never blocks
        }
    }
}
