using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Shmipc.Channels.Tests.CrossProcess;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Pipes;

/// <summary>
/// The PipeReader/PipeWriter contract (as the runtime's own pipe conformance tests state it) for
/// <see cref="ShmipcDuplexPipe"/>, over real sessions and real shared memory.
/// </summary>
public class DuplexPipeContractTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(100_000)]
    [InlineData(700_000)]
    public async Task Bytes_written_arrive_in_order_across_slices_and_leases(int size)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        var payload = Pattern(size);
        var reading = ReadAllAsync(server.Input, size, cts.Token);

        // Written the way a framing layer writes: small GetSpan requests, flushed now and then.
        var rest = payload.AsMemory();
        var writes = 0;
        while (!rest.IsEmpty)
        {
            var span = client.Output.GetSpan(Math.Min(rest.Length, 300));
            var n = Math.Min(span.Length, Math.Min(rest.Length, 3000));
            rest.Span[..n].CopyTo(span);
            client.Output.Advance(n);
            rest = rest[n..];
            if (++writes % 7 == 0)
            {
                await client.Output.FlushAsync(cts.Token);
            }
        }

        await client.Output.FlushAsync(cts.Token);
        Assert.Equal(payload, await reading);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task GetMemory_hands_out_shared_memory_not_a_heap_array()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        var memory = client.Output.GetMemory(100);
        Assert.False(MemoryMarshal.TryGetArray<byte>(memory, out _));
        Assert.True(memory.Length >= 100);
        memory.Span[..3].Fill(7);
        client.Output.Advance(3);
        Assert.Equal(3, client.Output.UnflushedBytes);
        Assert.True(client.Output.CanGetUnflushedBytes);
        await client.Output.FlushAsync(cts.Token);
        Assert.Equal(0, client.Output.UnflushedBytes);
        Assert.Equal(new byte[] { 7, 7, 7 }, await ReadAllAsync(server.Input, 3, cts.Token));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Empty_flush_sends_nothing_and_examined_data_waits_for_more()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        var empty = await client.Output.FlushAsync(cts.Token);
        Assert.False(empty.IsCanceled || empty.IsCompleted);
        _ = client.Output.GetMemory();
        client.Output.Advance(0);
        await client.Output.FlushAsync(cts.Token);

        await client.Output.WriteAsync(new byte[] { 1, 2 }, cts.Token);
        var first = await server.Input.ReadAtLeastAsync(2, cts.Token);
        Assert.Equal(2, first.Buffer.Length);

        // Nothing consumed, everything examined: the next read waits for new bytes (PipeReader contract).
        server.Input.AdvanceTo(first.Buffer.Start, first.Buffer.End);
        var next = server.Input.ReadAsync(cts.Token);
        Assert.False(next.IsCompleted);
        await client.Output.WriteAsync(new byte[] { 3 }, cts.Token);
        var second = await next;
        Assert.Equal(new byte[] { 1, 2, 3 }, second.Buffer.ToArray());
        server.Input.AdvanceTo(second.Buffer.End);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Completing_the_writer_sends_buffered_bytes_and_completes_the_peer_reader()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        client.Output.GetSpan(5).Fill(9);
        client.Output.Advance(5);
        await client.Output.CompleteAsync();
        Assert.Throws<InvalidOperationException>(() => client.Output.GetMemory());

        var result = await server.Input.ReadAtLeastAsync(6, cts.Token);
        Assert.True(result.IsCompleted);
        Assert.Equal(new byte[] { 9, 9, 9, 9, 9 }, result.Buffer.ToArray());
        server.Input.AdvanceTo(result.Buffer.End);

        // After the peer closed, its reader is done: flushes report IsCompleted and the bytes are dropped.
        await server.Output.WriteAsync(new byte[] { 1 }, cts.Token);
        var flush = await server.Output.FlushAsync(cts.Token);
        Assert.True(flush.IsCompleted);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Synchronous_complete_sends_what_fits_now()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        client.Output.GetSpan(2).Fill(4);
        client.Output.Advance(2);
        client.Output.Complete();
        var result = await server.Input.ReadAtLeastAsync(3, cts.Token);
        Assert.True(result.IsCompleted);
        Assert.Equal(new byte[] { 4, 4 }, result.Buffer.ToArray());
        server.Input.AdvanceTo(result.Buffer.End);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Writer_completed_with_an_error_drops_its_bytes_and_ends_the_peer_input()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        client.Output.GetSpan(2).Fill(4);
        client.Output.Advance(2);
        await client.Output.CompleteAsync(new InvalidOperationException("app failed"));
        var result = await server.Input.ReadAsync(cts.Token);
        Assert.True(result.IsCompleted);
        Assert.True(result.Buffer.IsEmpty);
        await server.DisposeAsync();
        await client.Input.CompleteAsync();
        await Messages.EventuallyAsync(() => pair.Client.ActiveStreamCount == 0 && pair.Server.ActiveStreamCount == 0, Timeout, "both streams closed");
    }

    [Fact]
    public async Task CancelPendingRead_and_token_cancellation_follow_the_reader_contract()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        var pending = server.Input.ReadAsync(cts.Token);
        server.Input.CancelPendingRead();
        var canceled = await pending;
        Assert.True(canceled.IsCanceled);
        server.Input.AdvanceTo(canceled.Buffer.Start);

        // Cancelled before the read: the next read returns IsCanceled at once.
        server.Input.CancelPendingRead();
        Assert.True((await server.Input.ReadAsync(cts.Token)).IsCanceled);

        using (var tokenSource = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            var read = server.Input.ReadAsync(tokenSource.Token);
            tokenSource.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        }

        // The reader still works after both kinds of cancellation.
        await client.Output.WriteAsync(new byte[] { 5 }, cts.Token);
        Assert.Equal(new byte[] { 5 }, await ReadAllAsync(server.Input, 1, cts.Token));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task CancelPendingFlush_cancels_the_next_flush_and_keeps_the_bytes()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        client.Output.GetSpan(1)[0] = 42;
        client.Output.Advance(1);
        client.Output.CancelPendingFlush();
        var canceled = await client.Output.FlushAsync(cts.Token);
        Assert.True(canceled.IsCanceled);
        Assert.Equal(1, client.Output.UnflushedBytes);

        var flushed = await client.Output.FlushAsync(cts.Token);
        Assert.False(flushed.IsCanceled);
        Assert.Equal(new byte[] { 42 }, await ReadAllAsync(server.Input, 1, cts.Token));

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.Output.FlushAsync(cancelled.Token));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task A_failed_session_fails_reads_and_flushes_with_the_reason()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        // A peer that closes its session cleanly closes its streams first (the reader just completes); a session
        // that fails under the pipe makes both sides throw the reason.
        var read = client.Input.ReadAsync(cts.Token);
        await pair.Client.DisposeAsync();
        await Assert.ThrowsAsync<ShmipcException>(async () => await read);

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await client.Output.WriteAsync(new byte[] { 1 }, cts.Token);
        });
        Assert.IsType<ShmipcException>(error);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Abort_ends_the_local_reader_with_the_reason_and_closes_the_stream_for_the_peer()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        var read = server.Input.ReadAsync(cts.Token);
        server.Abort(new IOException("aborted by the test"));
        var error = await Assert.ThrowsAsync<IOException>(async () => await read);
        Assert.Equal("aborted by the test", error.Message);
        await server.Output.WriteAsync(new byte[] { 1 }, cts.Token);
        Assert.True((await server.Output.FlushAsync(cts.Token)).IsCompleted);

        // The peer sees the end of its input, and its flushes report that nobody reads any more.
        var end = await client.Input.ReadAsync(cts.Token);
        Assert.True(end.IsCompleted);
        client.Input.AdvanceTo(end.Buffer.End);
        await client.Output.WriteAsync(new byte[] { 2 }, cts.Token);
        Assert.True((await client.Output.FlushAsync(cts.Token)).IsCompleted);

        await server.DisposeAsync();
        await client.DisposeAsync();
        await Messages.EventuallyAsync(() => pair.Client.ActiveStreamCount == 0 && pair.Server.ActiveStreamCount == 0, Timeout, "both streams closed");
    }

    [Fact]
    public async Task Both_sides_completed_release_the_stream_and_every_lease()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token);
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        // The server stops reading, the client keeps sending: what arrives is recycled, not held.
        await server.Input.CompleteAsync();
        for (var i = 0; i < 20; i++)
        {
            await client.Output.WriteAsync(Pattern(2000), cts.Token);
        }

        // Data for a stream id the server already released would open a new stream (as in shmipc-go), so the server
        // releases its side only after the client's close, which follows the data in order.
        await client.Output.CompleteAsync();
        await Messages.EventuallyAsync(() => server.Stream.IsClosedByPeer, Timeout, "the server stream closed by its peer");
        await server.Output.CompleteAsync();
        var end = await client.Input.ReadAsync(cts.Token);
        Assert.True(end.IsCompleted);
        client.Input.AdvanceTo(end.Buffer.End);
        await client.Input.CompleteAsync();

        await Messages.EventuallyAsync(
            () => pair.Client.ActiveStreamCount == 0 && pair.Server.ActiveStreamCount == 0
                && pair.Server.Statistics.LeasesHeld == 0 && pair.Client.Statistics.LeasesHeld == 0,
            Timeout,
            "both streams closed and every lease released",
            () => $"streams {pair.Client.ActiveStreamCount}/{pair.Server.ActiveStreamCount}, client {pair.Client.Statistics}, server {pair.Server.Statistics}");
    }

    [Fact]
    public async Task A_long_unflushed_write_streams_out_in_pieces()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var pair = await SessionPair.ConnectAsync(cts.Token, new ShmipcClientOptions
        {
            BufferCapacity = 8 * 1024 * 1024,
            PathPrefix = $"/dev/shm/shmipc_test_{Guid.NewGuid():N}",
        });
        var (client, server) = await pair.OpenPipesAsync(cts.Token);

        // No flush yet: the reader already sees bytes once more than EarlySendBytes were written.
        var chunk = Pattern(16 * 1024);
        for (var written = 0; written < 600 * 1024; written += chunk.Length)
        {
            chunk.CopyTo(client.Output.GetSpan(chunk.Length));
            client.Output.Advance(chunk.Length);
        }

        var early = await server.Input.ReadAtLeastAsync(256 * 1024, cts.Token);
        Assert.True(early.Buffer.Length >= 256 * 1024);
        server.Input.AdvanceTo(early.Buffer.End);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    private static byte[] Pattern(int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)((i * 31) + (i >> 8));
        }

        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader, int size, CancellationToken cancellationToken)
    {
        var result = await reader.ReadAtLeastAsync(size, cancellationToken);
        var bytes = result.Buffer.Slice(0, size).ToArray();
        reader.AdvanceTo(result.Buffer.GetPosition(size));
        return bytes;
    }
}
