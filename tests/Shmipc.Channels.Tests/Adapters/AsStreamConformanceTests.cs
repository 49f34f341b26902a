using System.Text;
using Shmipc.Channels.Tests.CrossProcess;
using Xunit;

namespace Shmipc.Channels.Tests.Adapters;

/// <summary>
/// <see cref="ShmipcStreamIOExtensions.AsStream"/> against the contract of a connected, non-seekable
/// <see cref="Stream"/> (in the manner of the runtime's connected-stream conformance tests), over real sessions.
/// </summary>
public sealed class AsStreamConformanceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<int, int> ChunkSizes => new()
    {
        { 1, 1 },
        { 7, 3 },
        { 1000, 4096 },
        { 4096, 1000 },
        { 5000, 100_000 },
        { 3 * 1024 * 1024, 65_536 },
    };

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task Bytes_written_in_chunks_are_read_in_order_across_message_boundaries(int writeSize, int readSize)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token, LargeOptions());
        await using var writer = pair.ClientStream.AsStream();
        await using var reader = pair.ServerStream.AsStream();
        var total = Math.Max(writeSize * 3, 64 * 1024);
        var payload = Pattern(total);

        var write = Task.Run(
            async () =>
            {
                for (var at = 0; at < total; at += writeSize)
                {
                    await writer.WriteAsync(payload.AsMemory(at, Math.Min(writeSize, total - at)), cts.Token);
                }

                // The end of the stream for the reader.
                await writer.DisposeAsync();
            },
            cts.Token);

        var received = new MemoryStream();
        var buffer = new byte[readSize];
        int n;
        while ((n = await reader.ReadAsync(buffer, cts.Token)) > 0)
        {
            Assert.InRange(n, 1, readSize);
            received.Write(buffer, 0, n);
        }

        await write;
        Assert.Equal(payload, received.ToArray());
        Assert.Equal(0, await reader.ReadAsync(buffer, cts.Token));
    }

    [Fact]
    public async Task Synchronous_reads_and_writes_round_trip()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        using var a = pair.ClientStream.AsStream();
        using var b = pair.ServerStream.AsStream();
        var payload = Pattern(20_000);

        var write = Task.Run(
            () =>
            {
                a.Write(payload, 0, 10_000);
                a.Write(payload.AsSpan(10_000, 9_999));
                a.WriteByte(payload[19_999]);
                a.Flush();
            },
            cts.Token);

        var received = new byte[payload.Length];
        var first = b.ReadByte();
        Assert.Equal(payload[0], first);
        received[0] = (byte)first;
        b.ReadExactly(received, 1, received.Length - 1);
        await write;
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task One_write_is_one_message_copied_into_shared_memory_and_published_at_once()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var writer = pair.ClientStream.AsStream();

        // No Flush: the peer reads the message from its Input as soon as the write returned.
        await writer.WriteAsync(Encoding.UTF8.GetBytes("hello"), cts.Token);
        using (var message = await pair.ServerStream.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("hello", Encoding.UTF8.GetString(message.Data));
        }

        // An empty write sends nothing (shmipc has no empty message); the next message is the next write.
        await writer.WriteAsync(ReadOnlyMemory<byte>.Empty, cts.Token);
        writer.Write([]);
        await writer.WriteAsync(Encoding.UTF8.GetBytes("world"), cts.Token);
        using (var message = await pair.ServerStream.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("world", Encoding.UTF8.GetString(message.Data));
        }

        // A write larger than one message's limit becomes several messages of at most 1 MiB.
        var large = Pattern((2 * 1024 * 1024) + 5);
        await writer.WriteAsync(large, cts.Token);
        var sizes = new List<int>();
        var received = new MemoryStream();
        while (received.Length < large.Length)
        {
            using var message = await pair.ServerStream.Input.ReadAsync(cts.Token);
            sizes.Add(message.Length);
            received.Write(message.ToArray());
        }

        Assert.Equal([1024 * 1024, 1024 * 1024, 5], sizes);
        Assert.Equal(large, received.ToArray());
        Assert.Equal(0, pair.Client.Statistics.LeasesHeld);
    }

    [Fact]
    public async Task A_short_read_returns_part_of_a_message_and_the_next_read_continues_it()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var reader = pair.ServerStream.AsStream();
        await pair.ClientStream.WriteAsync(Pattern(100), cts.Token);

        var buffer = new byte[30];
        var received = new List<byte>();
        foreach (var expected in new[] { 30, 30, 30, 10 })
        {
            Assert.Equal(expected, await reader.ReadAsync(buffer, cts.Token));
            received.AddRange(buffer.AsSpan(0, expected).ToArray());
        }

        Assert.Equal(Pattern(100), received.ToArray());

        // Read to its end, the message's shared memory is back in the free lists.
        Assert.Equal(0, pair.Server.Statistics.LeasesHeld);
    }

    [Fact]
    public async Task A_read_takes_every_message_already_there_up_to_the_buffer_size()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var reader = pair.ServerStream.AsStream();
        await pair.ClientStream.WriteAsync(Encoding.UTF8.GetBytes("abc"), cts.Token);
        await pair.ClientStream.WriteAsync(Encoding.UTF8.GetBytes("defg"), cts.Token);
        await pair.ClientStream.WriteAsync(Encoding.UTF8.GetBytes("hij"), cts.Token);
        await Messages.EventuallyAsync(() => pair.ServerStream.Input.Count == 3, Timeout, "three messages queued on the server");

        var buffer = new byte[5];
        Assert.Equal(5, await reader.ReadAsync(buffer, cts.Token));
        Assert.Equal("abcde", Encoding.UTF8.GetString(buffer));
        var rest = new byte[100];
        Assert.Equal(5, await reader.ReadAsync(rest, cts.Token));
        Assert.Equal("fghij", Encoding.UTF8.GetString(rest, 0, 5));
    }

    [Fact]
    public async Task A_zero_byte_read_waits_for_data_without_consuming_it()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var reader = pair.ServerStream.AsStream();

        var zero = reader.ReadAsync(Memory<byte>.Empty, cts.Token).AsTask();
        await Task.Yield();
        Assert.False(zero.IsCompleted, "a zero-byte read completed before any data arrived");
        await pair.ClientStream.WriteAsync(Encoding.UTF8.GetBytes("xyz"), cts.Token);
        Assert.Equal(0, await zero);

        // Data is there now: a zero-byte read returns at once, and nothing was consumed.
        Assert.Equal(0, await reader.ReadAsync(Memory<byte>.Empty, cts.Token));
        Assert.Equal(0, reader.Read([], 0, 0));
        var buffer = new byte[10];
        Assert.Equal(3, await reader.ReadAsync(buffer, cts.Token));
        Assert.Equal("xyz", Encoding.UTF8.GetString(buffer, 0, 3));

        // At the end of the stream a zero-byte read returns 0 too.
        pair.ClientStream.CloseOutput();
        Assert.Equal(0, await reader.ReadAsync(Memory<byte>.Empty, cts.Token));
        Assert.Equal(0, await reader.ReadAsync(buffer, cts.Token));
    }

    [Fact]
    public async Task A_cancelled_read_loses_nothing_and_the_stream_stays_usable()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var reader = pair.ServerStream.AsStream();
        var buffer = new byte[10];

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadAsync(buffer, new CancellationToken(true)).AsTask());

        using (var cancel = new CancellationTokenSource())
        {
            var pending = reader.ReadAsync(buffer, cancel.Token).AsTask();
            Assert.False(pending.IsCompleted);
            await cancel.CancelAsync();
            var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
            Assert.Equal(cancel.Token, e.CancellationToken);
        }

        await pair.ClientStream.WriteAsync(Encoding.UTF8.GetBytes("after"), cts.Token);
        Assert.Equal(5, await reader.ReadAsync(buffer, cts.Token));
        Assert.Equal("after", Encoding.UTF8.GetString(buffer, 0, 5));
    }

    [Fact]
    public async Task A_cancelled_write_sends_nothing()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var writer = pair.ClientStream.AsStream();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await writer.WriteAsync(Encoding.UTF8.GetBytes("lost"), new CancellationToken(true)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.FlushAsync(new CancellationToken(true)));
        await writer.WriteAsync(Encoding.UTF8.GetBytes("kept"), cts.Token);

        using var message = await pair.ServerStream.Input.ReadAsync(cts.Token);
        Assert.Equal("kept", Encoding.UTF8.GetString(message.Data));
        Assert.Equal(0, pair.Client.Statistics.LeasesHeld);
    }

    [Fact]
    public async Task Reads_and_writes_run_at_the_same_time_through_an_echo()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token, LargeOptions());
        await using var client = pair.ClientStream.AsStream();
        var server = pair.ServerStream.AsStream();

        // The server echoes with CopyToAsync (which hands over the bytes in shared memory) and closes at the end.
        var echo = Task.Run(
            async () =>
            {
                await using (server)
                {
                    await server.CopyToAsync(server, cts.Token);
                }
            },
            cts.Token);

        // shmipc closes a stream in both directions at once (no half-close): the client reads every byte back, then
        // disposes, which ends the server's CopyToAsync.
        var payload = Pattern(4 * 1024 * 1024);
        var write = Task.Run(
            async () =>
            {
                for (var at = 0; at < payload.Length; at += 50_000)
                {
                    await client.WriteAsync(payload.AsMemory(at, Math.Min(50_000, payload.Length - at)), cts.Token);
                }
            },
            cts.Token);

        var received = new byte[payload.Length];
        await client.ReadExactlyAsync(received, cts.Token);
        await write;
        await client.DisposeAsync();
        await echo;
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task The_peer_closing_ends_reads_after_the_data_and_fails_writes()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var stream = pair.ServerStream.AsStream();
        await pair.ClientStream.WriteAsync(Encoding.UTF8.GetBytes("last words"), cts.Token);
        pair.ClientStream.Dispose();

        var buffer = new byte[100];
        Assert.Equal(10, await stream.ReadAsync(buffer, cts.Token));
        Assert.Equal("last words", Encoding.UTF8.GetString(buffer, 0, 10));
        Assert.Equal(0, await stream.ReadAsync(buffer, cts.Token));
        Assert.Equal(0, stream.Read(buffer));

        var e = await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(Encoding.UTF8.GetBytes("x"), cts.Token));
        Assert.Equal(ShmipcErrorCode.StreamClosed, Assert.IsType<ShmipcException>(e.InnerException).ErrorCode);
        Assert.Throws<IOException>(() => stream.Write([1]));
    }

    [Fact]
    public async Task A_closed_session_fails_reads_and_writes_with_an_IOException_carrying_the_reason()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var stream = pair.ClientStream.AsStream();
        var pending = stream.ReadAsync(new byte[10], cts.Token).AsTask();
        Assert.False(pending.IsCompleted);

        await pair.Client.DisposeAsync();

        var read = await Assert.ThrowsAsync<IOException>(() => pending);
        Assert.Equal(ShmipcErrorCode.SessionClosed, Assert.IsType<ShmipcException>(read.InnerException).ErrorCode);
        var write = await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(new byte[] { 1 }, cts.Token));
        Assert.Equal(ShmipcErrorCode.SessionClosed, Assert.IsType<ShmipcException>(write.InnerException).ErrorCode);
        Assert.Throws<IOException>(() => stream.Write([1]));
    }

    [Fact]
    public async Task The_peer_disposing_its_session_ends_reads_after_the_data()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var stream = pair.ClientStream.AsStream();
        await pair.ServerStream.WriteAsync(Encoding.UTF8.GetBytes("bye"), cts.Token);
        await pair.Server.DisposeAsync();

        // What arrived before the peer left is still read; then the end of the stream or the session's reason.
        var buffer = new byte[10];
        Assert.Equal(3, await stream.ReadAsync(buffer, cts.Token));
        try
        {
            Assert.Equal(0, await stream.ReadAsync(buffer, cts.Token));
        }
        catch (IOException e)
        {
            Assert.IsType<ShmipcException>(e.InnerException);
        }
    }

    [Fact]
    public async Task Disposing_closes_the_stream_towards_the_peer_and_ends_a_pending_read()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        var stream = pair.ServerStream.AsStream();
        await pair.ClientStream.WriteAsync(Pattern(100), cts.Token);
        var buffer = new byte[10];
        Assert.Equal(10, await stream.ReadAsync(buffer, cts.Token));

        // A read waiting on the other side ends when this side is disposed.
        await using var peer = pair.ClientStream.AsStream();
        var peerRead = peer.ReadAsync(buffer, cts.Token).AsTask();

        stream.Dispose();
        stream.Dispose();
        Assert.False(stream.CanRead);
        Assert.False(stream.CanWrite);
        Assert.False(stream.CanSeek);
        Assert.Throws<ObjectDisposedException>(() => stream.Read(buffer));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.ReadAsync(buffer, cts.Token).AsTask());
        Assert.Throws<ObjectDisposedException>(() => stream.Write(buffer));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await stream.WriteAsync(buffer, cts.Token));
        Assert.Throws<ObjectDisposedException>(stream.Flush);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.FlushAsync(cts.Token));

        Assert.Equal(0, await peerRead);

        // The unread rest of the message was released with the stream.
        await Messages.EventuallyAsync(() => pair.Server.Statistics.LeasesHeld == 0, Timeout, "the server's leases released");
    }

    [Fact]
    public async Task A_read_pending_when_its_own_stream_is_disposed_ends()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        var stream = pair.ServerStream.AsStream();
        var pending = stream.ReadAsync(new byte[10], cts.Token).AsTask();
        Assert.False(pending.IsCompleted);

        await stream.DisposeAsync();

        // The end of the stream, or ObjectDisposedException: both are what a disposed Stream may do; not a hang.
        try
        {
            Assert.Equal(0, await pending.WaitAsync(cts.Token));
        }
        catch (ObjectDisposedException)
        {
        }
    }

    [Fact]
    public async Task With_leaveOpen_disposing_the_Stream_leaves_the_shmipc_stream_usable()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        var stream = pair.ClientStream.AsStream(leaveOpen: true);
        await stream.WriteAsync(Encoding.UTF8.GetBytes("one"), cts.Token);
        await stream.DisposeAsync();

        await pair.ClientStream.WriteAsync(Encoding.UTF8.GetBytes("two"), cts.Token);
        await using var reader = pair.ServerStream.AsStream();
        var buffer = new byte[6];
        await reader.ReadExactlyAsync(buffer, cts.Token);
        Assert.Equal("onetwo", Encoding.UTF8.GetString(buffer));
        Assert.False(pair.ServerStream.IsClosedByPeer);
    }

    [Fact]
    public async Task Seeking_and_lengths_are_not_supported()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await ConnectedStreams.CreateAsync(cts.Token);
        await using var stream = pair.ClientStream.AsStream();
        Assert.True(stream.CanRead);
        Assert.True(stream.CanWrite);
        Assert.False(stream.CanSeek);
        Assert.False(stream.CanTimeout);
        Assert.Throws<NotSupportedException>(() => stream.Length);
        Assert.Throws<NotSupportedException>(() => stream.Position);
        Assert.Throws<NotSupportedException>(() => stream.Position = 0);
        Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => stream.SetLength(1));
        Assert.Throws<ArgumentNullException>(() => stream.Read(null!, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Read(new byte[1], 0, 2));
        Assert.Throws<ArgumentNullException>(() => ShmipcStreamIOExtensions.AsStream(null!));
    }

    private static ShmipcClientOptions LargeOptions() => new()
    {
        BufferCapacity = 32L * 1024 * 1024,
        PathPrefix = $"/dev/shm/shmipc_test_{Guid.NewGuid():N}",
        HandshakeTimeout = TimeSpan.FromSeconds(10),
    };

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 7) + (i >> 8));
        }

        return bytes;
    }
}
