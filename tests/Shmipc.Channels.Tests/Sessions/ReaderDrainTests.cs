using System.Buffers.Binary;
using System.Threading.Channels;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// Readers that wait on <see cref="ShmipcStream.Input"/> take messages from the receive queue themselves (the
/// reactor and other readers compete for it): nothing may be lost, duplicated or reordered, cancelled reads included,
/// and a reader that blocks in its own code stalls nothing but itself.
/// </summary>
public class ReaderDrainTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(PollingMode.Balanced, 1)]
    [InlineData(PollingMode.Balanced, 4)]
    [InlineData(PollingMode.Latency, 4)]
    [InlineData(PollingMode.LowCpu, 2)]
    public async Task Concurrent_readers_get_every_message_once_and_in_order(PollingMode mode, int streams)
    {
        const int Messages = 2000;
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { PollingMode = mode });
        var options = _accounting.Options(TestClientOptions.Small(Timeout));
        options.PollingMode = mode;
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));

        var outgoing = Enumerable.Range(0, streams).Select(_ => client.OpenStream()).ToArray();
        var writers = outgoing.Select(s => Task.Run(() => WriteSequenceAsync(s, Messages, cts.Token))).ToArray();
        var readers = new List<Task>();
        for (var i = 0; i < streams; i++)
        {
            var accepted = await server.AcceptStreamAsync(cts.Token);
            readers.Add(Task.Run(() => ReadSequenceAsync(accepted, Messages, cancelSome: false, cts.Token)));
        }

        await Task.WhenAll(writers).WaitAsync(cts.Token);
        await Task.WhenAll(readers).WaitAsync(cts.Token);
    }

    [Fact]
    public async Task Cancelled_reads_lose_no_message()
    {
        const int Messages = 3000;
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, _accounting.Options(TestClientOptions.Small(Timeout)), cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));

        var outgoing = new[] { client.OpenStream(), client.OpenStream() };
        var writers = outgoing.Select(s => Task.Run(() => WriteSequenceAsync(s, Messages, cts.Token, pause: true))).ToArray();
        var readers = new List<Task<int>>();
        for (var i = 0; i < outgoing.Length; i++)
        {
            var accepted = await server.AcceptStreamAsync(cts.Token);
            readers.Add(Task.Run(() => ReadSequenceAsync(accepted, Messages, cancelSome: true, cts.Token)));
        }

        await Task.WhenAll(writers).WaitAsync(cts.Token);
        var cancelled = await Task.WhenAll(readers).WaitAsync(cts.Token);
        Assert.True(cancelled.Sum() > 0, "no read was cancelled: the test did not exercise cancellation");
    }

    [Fact]
    public async Task A_reader_blocked_in_its_own_code_does_not_stall_other_sessions()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path);
        await using var blockedClient = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, _accounting.Options(TestClientOptions.Small(Timeout)), cts.Token));
        await using var blockedServer = _accounting.Track(await listener.AcceptAsync(cts.Token));
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, _accounting.Options(TestClientOptions.Small(Timeout)), cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));

        // One session's reader blocks its thread after its first message (a synchronous wait in user code).
        using var release = new ManualResetEventSlim();
        var blockedStream = blockedClient.OpenStream();
        await blockedStream.WriteAsync(new byte[] { 1 }, cts.Token);
        var blockedAccepted = await blockedServer.AcceptStreamAsync(cts.Token);
        var blockedReader = Task.Run(
            async () =>
            {
                using (await blockedAccepted.Input.ReadAsync(cts.Token))
                {
                    release.Wait(cts.Token);
                }
            },
            cts.Token);

        // Meanwhile the other session's traffic flows both ways.
        await blockedStream.WriteAsync(new byte[] { 2 }, cts.Token);
        var stream = client.OpenStream();
        const int Messages = 500;
        var writer = Task.Run(() => WriteSequenceAsync(stream, Messages, cts.Token));
        var accepted = await server.AcceptStreamAsync(cts.Token);
        await ReadSequenceAsync(accepted, Messages, cancelSome: false, cts.Token);
        await writer.WaitAsync(cts.Token);
        Assert.False(blockedReader.IsCompleted);

        release.Set();
        await blockedReader.WaitAsync(cts.Token);
        using var second = await blockedAccepted.Input.ReadAsync(cts.Token);
        Assert.Equal(2, second.Data.FirstSpan[0]);
    }

    private static async Task WriteSequenceAsync(ShmipcStream stream, int count, CancellationToken cancellationToken, bool pause = false)
    {
        var buffer = new byte[16];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, i);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), stream.Id);
            await stream.WriteAsync(buffer, cancellationToken);
            if (i % 97 == 0)
            {
                // Let the reader catch up now and then, so it parks, spins and drains in turn (and, with pause, finds
                // the input empty, so that its short-lived reads are cancelled).
                if (pause)
                {
                    await Task.Delay(1, cancellationToken);
                }
                else
                {
                    await Task.Yield();
                }
            }
        }
    }

    /// <summary>Reads <paramref name="count"/> messages, checking the sequence; returns how many reads were cancelled.</summary>
    private static async Task<int> ReadSequenceAsync(ShmipcStream stream, int count, bool cancelSome, CancellationToken cancellationToken)
    {
        var cancelled = 0;
        var random = new Random(42);
        uint? streamId = null;
        for (var expected = 0; expected < count;)
        {
            ShmLease lease;
            if (cancelSome && random.Next(3) == 0)
            {
                using var shortCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                shortCts.CancelAfter(TimeSpan.FromTicks(random.Next(1, 500)));
                try
                {
                    lease = await stream.Input.ReadAsync(shortCts.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    cancelled++;
                    continue;
                }
            }
            else if (random.Next(4) == 0)
            {
                if (!await stream.Input.WaitToReadAsync(cancellationToken) || !stream.Input.TryRead(out lease))
                {
                    continue;
                }
            }
            else
            {
                lease = await stream.Input.ReadAsync(cancellationToken);
            }

            using (lease)
            {
                var data = lease.Data.FirstSpan;
                Assert.Equal(16, data.Length);
                Assert.Equal(expected, BinaryPrimitives.ReadInt32LittleEndian(data));
                var id = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
                streamId ??= id;
                Assert.Equal(streamId, id);
            }

            expected++;
        }

        Assert.False(stream.Input.TryRead(out _));
        return cancelled;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
