using System.Text;
using System.Threading.Channels;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

public class InProcessSessionTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(MemoryMapType.MemFd, 3)]
    [InlineData(MemoryMapType.DevShmFile, 2)]
    [InlineData(MemoryMapType.DevShmFile, 3)]
    public async Task Message_round_trips_through_shared_memory(MemoryMapType mode, int fileVersion)
    {
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        var options = new ShmipcClientOptions
        {
            MemoryMapType = mode,
            FileModeProtocolVersion = fileVersion,
            BufferCapacity = 1024 * 1024,
            SizeClasses = [new(1024, 50), new(4096, 50)],
            PathPrefix = _accounting.Prefix(),
        };
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
        var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        Assert.Equal(mode == MemoryMapType.MemFd ? 3 : fileVersion, client.ProtocolVersion);

        var stream = client.OpenStream();
        Assert.Equal(2u, stream.Id);
        await stream.WriteAsync(Encoding.UTF8.GetBytes("client say hello world!!!"), cts.Token);

        var accepted = await server.AcceptStreamAsync(cts.Token);
        Assert.Equal(2u, accepted.Id);
        using (var request = await accepted.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("client say hello world!!!", Encoding.UTF8.GetString(request.Data));
        }

        var reply = accepted.Rent();
        Encoding.UTF8.GetBytes("server hello world!!!", reply.Writer);
        await accepted.Output.WriteAsync(reply, cts.Token);

        using (var response = await stream.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("server hello world!!!", Encoding.UTF8.GetString(response.Data));
        }

        stream.Output.Complete();
        await Assert.ThrowsAnyAsync<ChannelClosedException>(async () => await accepted.Input.ReadAsync(cts.Token));
        Assert.False(await accepted.Input.WaitToReadAsync(cts.Token));
        await server.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => client.Completion.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task Large_messages_become_chains_and_arrive_intact()
    {
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, new ShmipcClientOptions { PathPrefix = _accounting.Prefix() }, cts.Token));
        var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();
        foreach (var size in new[] { 1, 64, 8172, 8173, 100_000, 1_000_000 })
        {
            var payload = new byte[size];
            for (var i = 0; i < size; i++)
            {
                payload[i] = (byte)(i % 251);
            }

            await stream.WriteAsync(payload, cts.Token);
        }

        var accepted = await server.AcceptStreamAsync(cts.Token);
        foreach (var size in new[] { 1, 64, 8172, 8173, 100_000, 1_000_000 })
        {
            using var msg = await accepted.Input.ReadAsync(cts.Token);
            Assert.Equal(size, msg.Length);
            var bytes = msg.ToArray();
            for (var i = 0; i < size; i++)
            {
                Assert.Equal((byte)(i % 251), bytes[i]);
            }
        }
    }

    [Fact]
    public async Task Writing_a_lease_after_the_session_closed_fails_cleanly()
    {
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        using var cts = new CancellationTokenSource(Timeout);
        var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, new ShmipcClientOptions { PathPrefix = _accounting.Prefix() }, cts.Token));
        var stream = client.OpenStream();
        var lease = stream.Rent();
        lease.GetSpan(8).Fill(7);
        lease.Advance(8);
        await client.DisposeAsync();

        var e = await Assert.ThrowsAsync<ChannelClosedException>(async () => await stream.Output.WriteAsync(lease, cts.Token));
        Assert.Equal(ShmipcErrorCode.SessionClosed, Assert.IsType<ShmipcException>(e.InnerException).ErrorCode);
        await Assert.ThrowsAsync<ShmipcException>(async () => await stream.Output.WaitToWriteAsync(cts.Token));
        lease.Dispose();
        Assert.Throws<ShmipcException>(() => stream.Rent());
    }

    [Fact]
    public async Task A_reader_resumed_on_the_reactor_may_dispose_its_session()
    {
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        using var cts = new CancellationTokenSource(Timeout);
        var options = new ShmipcClientOptions { PathPrefix = _accounting.Prefix(), RunContinuationsOnReactor = true };
        var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
        var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();
        await stream.WriteAsync(new byte[] { 1 }, cts.Token);
        var accepted = await server.AcceptStreamAsync(cts.Token);
        using (var request = await accepted.Input.ReadAsync(cts.Token))
        {
            Assert.Equal(1, request.Length);
        }

        // The client's continuation runs on the reactor, inside the session's own receive callback, and closes it.
        var replyRead = Task.Run(async () =>
        {
            using (await stream.Input.ReadAsync(cts.Token))
            {
            }

            await client.DisposeAsync();
        });
        await accepted.WriteAsync(new byte[] { 2 }, cts.Token);
        await replyRead.WaitAsync(Timeout);
        await client.Completion.WaitAsync(Timeout);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
