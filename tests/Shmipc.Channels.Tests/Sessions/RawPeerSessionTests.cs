using System.Buffers.Binary;
using System.Threading.Channels;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Sessions;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// A .NET client session against a hand-driven server on the other end of a socketpair, which maps the client's
/// memory itself and decides when (if ever) to consume: queue-full back-pressure, timeouts, cancellation, the
/// StreamClose fallback, and hostile input.
/// </summary>
public sealed class RawPeerSessionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WriteAsync_waits_while_the_queue_is_full_and_resumes_when_the_peer_consumes()
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 4);
        var stream = peer.Client.OpenStream();
        for (var i = 0; i < 4; i++)
        {
            await stream.WriteAsync(new byte[] { (byte)i });
        }

        // The fifth write must wait: the 4-slot queue is full and nobody consumes. (That it did not slip in later
        // is proven below: after one pop, the queue holds exactly 4 again.)
        var blocked = stream.WriteAsync(new byte[] { 4 }).AsTask();
        Assert.False(blocked.IsCompleted, "the fifth write must wait: the 4-slot queue is full and nobody consumes");
        Assert.Equal(4, peer.Queues.ReceiveQueue.Count);

        Assert.True(peer.Queues.ReceiveQueue.TryPop(out var first));
        Assert.Equal(2u, first.StreamId);
        await blocked.WaitAsync(Timeout);
        Assert.Equal(4, peer.Queues.ReceiveQueue.Count);
    }

    [Fact]
    public async Task WriteAsync_on_a_full_queue_honours_cancellation()
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 3);
        var stream = await FillAsync(peer, 3);

        using var cts = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.WriteAsync(new byte[] { 3 }, cts.Token));
    }

    [Fact]
    public async Task WriteAsync_on_a_full_queue_fails_after_the_write_timeout()
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 3, writeTimeout: TimeSpan.FromMilliseconds(200));
        var stream = await FillAsync(peer, 3);

        // A timeout is not a closed channel: the stream stays open (SessionCloseTests shows a later write succeeding).
        var timedOut = await Assert.ThrowsAsync<ShmipcException>(async () => await stream.WriteAsync(new byte[] { 3 }));
        Assert.Equal(ShmipcErrorCode.Timeout, timedOut.ErrorCode);
        Assert.Contains("queue stayed full", timedOut.Message, StringComparison.Ordinal);
        Assert.False(peer.Client.IsClosed);
    }

    private static async Task<ShmipcStream> FillAsync(RawPeer peer, int count)
    {
        var stream = peer.Client.OpenStream();
        for (var i = 0; i < count; i++)
        {
            await stream.WriteAsync(new byte[] { (byte)i });
        }

        return stream;
    }

    [Fact]
    public async Task Closing_a_stream_on_a_full_queue_sends_a_StreamClose_frame()
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 1);
        var stream = peer.Client.OpenStream();
        await stream.WriteAsync(new byte[] { 1 });
        peer.ReadFrame(); // the Polling frame that announced the first element
        stream.CloseOutput();
        var frame = peer.ReadFrame();
        Assert.Equal(ProtocolConstants.StreamCloseFrameLength, frame.Length);
        Assert.Equal(EventType.StreamClose, (EventType)frame[7]);
        Assert.Equal(stream.Id, BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(8)));
    }

    [Theory]
    [InlineData(0xFFFF_FFF0u, "outside")]
    [InlineData(45u, "")]
    public async Task An_out_of_range_offset_from_the_peer_closes_the_session_with_a_clear_error(uint offset, string fragment)
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 16);
        var stream = peer.Client.OpenStream();
        await stream.WriteAsync(new byte[] { 1 });

        // The "server" answers with an element that points nowhere sensible, then wakes the client.
        Assert.True(peer.Queues.SendQueue.TryPut(new QueueElement(stream.Id, offset, 0)));
        peer.SendPolling();

        var error = await Assert.ThrowsAsync<ShmipcException>(() => peer.Client.Completion.WaitAsync(Timeout));
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, error.ErrorCode);
        Assert.Contains(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, error.Message, StringComparison.OrdinalIgnoreCase);
        var read = await Assert.ThrowsAsync<ChannelClosedException>(async () => await stream.Input.ReadAsync());
        Assert.Same(error, read.InnerException);
    }

    [Fact]
    public async Task A_garbage_frame_from_the_peer_closes_the_session_with_a_clear_error()
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 16);
        peer.Socket.SendAll([0, 0, 0, 8, 0x12, 0x34, 3, 1], Timeout);
        var error = await Assert.ThrowsAsync<ShmipcException>(() => peer.Client.Completion.WaitAsync(Timeout));
        Assert.Equal(ShmipcErrorCode.ProtocolViolation, error.ErrorCode);
        Assert.Contains("magic", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The server side, by hand: handshake, mapping, and nothing else unless the test says so.</summary>
    private sealed class RawPeer : IAsyncDisposable
    {
        private RawPeer(ShmipcSession client, SocketFd socket, SharedRegion queue, IoQueuePair queues)
        {
            Client = client;
            Socket = socket;
            QueueRegion = queue;
            Queues = queues;
        }

        public ShmipcSession Client { get; }

        public SocketFd Socket { get; }

        public SharedRegion QueueRegion { get; }

        public IoQueuePair Queues { get; }

        public static async Task<RawPeer> StartAsync(int queueCapacity, TimeSpan? writeTimeout = null)
        {
            var (clientEnd, server) = SocketFd.CreatePair();
            var options = new ShmipcClientOptions
            {
                QueueCapacity = queueCapacity,
                BufferCapacity = 1024 * 1024,
                SizeClasses = [new(1024, 100)],
                PathPrefix = $"/dev/shm/shmipc_raw_{Guid.NewGuid():N}",
                WriteTimeout = writeTimeout ?? TimeSpan.FromSeconds(10),
            };
            var connect = Task.Run(() => ClientSessionFactory.Connect(_ => clientEnd, options, CancellationToken.None));
            var announcement = HandshakeServer.ReceiveAnnouncement(new SocketHandshakeTransport(server), Timeout, static fd => new SafeFdHandle(fd, true).Dispose());
            var (bufferFd, queueFd) = announcement.TakeFds();
            new SafeFdHandle(bufferFd, true).Dispose();
            var queue = SharedRegion.OpenFd(new SafeFdHandle(queueFd, true), announcement.QueuePath);
            IoQueuePair queues;
            unsafe
            {
                queues = IoQueuePair.Map(queue.Base, queue.Length);
            }

            HandshakeServer.Acknowledge(new SocketHandshakeTransport(server), announcement);
            var session = await connect.WaitAsync(Timeout);
            return new RawPeer(session.Public, server, queue, queues);
        }

        public void SendPolling()
        {
            var frame = new byte[8];
            HeaderOnlyFrame.Write(frame, 3, EventType.Polling);
            try
            {
                Socket.SendAll(frame, Timeout);
            }
            catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.PeerClosed)
            {
                // A client reactor that was already polling (for another session of this process) found the element
                // without the wake-up and closed the session first.
            }
        }

        public byte[] ReadFrame()
        {
            var header = new byte[8];
            Socket.ReceiveExactly(header, Timeout);
            var frame = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
            header.CopyTo(frame, 0);
            Socket.ReceiveExactly(frame.AsSpan(8), Timeout);
            return frame;
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            Socket.Dispose();
            QueueRegion.Dispose();
        }
    }
}
