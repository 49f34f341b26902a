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

    [Fact]
    public async Task A_tagged_element_that_overtakes_the_fallback_frame_written_before_it_is_held_back()
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 16);
        var stream = peer.Client.OpenStream();
        await stream.WriteAsync(new byte[] { 1 }); // a client accepts data only for streams it opened
        peer.SendAnnouncement();

        // The peer wrote fallback frame #1 ("A"), then put element "B" tagged "after 1 frame"; the element is consumed
        // first (the race a return from fallback creates), and must still be delivered second.
        var manager = peer.Client.Engine.Buffer.Manager;
        Assert.True(manager.TryAllocate(1, out var slice));
        manager.GetSliceData(slice)[0] = (byte)'B';
        manager.SetSliceLength(slice, 1);
        manager.LinkChain([slice]);
        Assert.True(peer.Queues.SendQueue.TryPut(new QueueElement(stream.Id, slice, FallbackOrder.Tag(1))));
        peer.SendPolling();
        var deadline = DateTime.UtcNow + Timeout;
        while (peer.Queues.SendQueue.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the client did not consume the element");
            await Task.Delay(5);
        }

        Assert.False(stream.Input.TryRead(out _), "the element must wait for the fallback frame sent before it");
        peer.SendFallbackData(stream.Id, "A"u8);
        using var cts = new CancellationTokenSource(Timeout);
        using (var first = await stream.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("A"u8.ToArray(), first.ToArray());
        }

        using (var second = await stream.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("B"u8.ToArray(), second.ToArray());
        }
    }

    [Fact]
    public async Task Towards_a_peer_that_does_not_announce_ordering_a_stream_stays_in_fallback_as_in_shmipc()
    {
        await using var peer = await RawPeer.StartAsync(queueCapacity: 16);
        var stream = peer.Client.OpenStream();
        await stream.WriteAsync(new byte[] { 1 });
        Assert.Equal(EventType.Polling, (EventType)peer.ReadFrame()[7]); // the wake-up for the first element

        // Like shmipc-go: fallback data to the client makes the client's stream answer over the socket, for good.
        peer.SendFallbackData(stream.Id, "A"u8);
        using var cts = new CancellationTokenSource(Timeout);
        (await stream.Input.ReadAsync(cts.Token)).Dispose();
        Assert.True(stream.IsInFallback);
        await stream.WriteAsync(new byte[] { 2 }, cts.Token);
        await stream.WriteAsync(new byte[] { 3 }, cts.Token);

        var announcement = peer.ReadFrame();
        Assert.Equal(EventType.Polling, (EventType)announcement[7]);
        Assert.Equal(3 | ProtocolConstants.OrderedFallbackVersionBit, announcement[6]);
        foreach (var expected in new byte[] { 2, 3 })
        {
            var frame = peer.ReadFrame();
            Assert.Equal(EventType.FallbackData, (EventType)frame[7]);
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(12))); // Go's status bytes: no tag
            Assert.Equal(expected, frame[16]);
        }

        Assert.True(stream.IsInFallback);
        Assert.Equal(2, peer.Client.FallbackWriteCount);
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
            return new RawPeer(ShmipcSession.Of(session), server, queue, queues);
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

        /// <summary>What a Shmipc.NET peer sends before its first fallback frame: "I order fallback frames".</summary>
        public void SendAnnouncement()
        {
            var frame = new byte[8];
            HeaderOnlyFrame.Write(frame, 3 | ProtocolConstants.OrderedFallbackVersionBit, EventType.Polling);
            Socket.SendAll(frame, Timeout);
        }

        public void SendFallbackData(uint streamId, ReadOnlySpan<byte> payload)
        {
            var frame = new byte[FallbackDataHeader.GetFrameLength(payload.Length)];
            FallbackDataHeader.Write(frame, 3, streamId, 0, payload);
            Socket.SendAll(frame, Timeout);
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
