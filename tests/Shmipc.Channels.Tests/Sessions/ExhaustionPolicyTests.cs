using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// What a writer does when the buffer region runs out (ShmipcOptions.ExhaustionPolicy), with a 1 MiB region of
/// 16 KiB slices (63 slices, 62 usable) exhausted by a reader that holds every message it received.
/// </summary>
public sealed class ExhaustionPolicyTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private const int MessageSize = 10 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Wait_resumes_through_shared_memory_when_the_reader_frees_a_slice()
    {
        await using var pair = await ExhaustedPair.StartAsync(_accounting, ExhaustionPolicy.Wait);
        var blocked = pair.Stream.WriteAsync(Payload(99)).AsTask();
        Assert.False(blocked.IsCompleted, "the write must wait: every slice is held by the reader");

        pair.Held[0].Dispose();
        await blocked.WaitAsync(Timeout);
        using var cts = new CancellationTokenSource(Timeout);
        using (var message = await pair.Accepted.Input.ReadAsync(cts.Token))
        {
            Assert.Equal(Payload(99), message.ToArray());
        }

        Assert.Equal(0, pair.Client.FallbackWriteCount);
        Assert.Equal(0, pair.Server.FallbackReadCount);
        Assert.False(pair.Stream.IsInFallback);
    }

    [Fact]
    public async Task Wait_fails_with_NoMoreBuffer_after_the_write_timeout()
    {
        await using var pair = await ExhaustedPair.StartAsync(_accounting, ExhaustionPolicy.Wait, TimeSpan.FromMilliseconds(200));
        var error = await Assert.ThrowsAsync<ShmipcException>(async () => await pair.Stream.WriteAsync(Payload(99)));
        Assert.Equal(ShmipcErrorCode.NoMoreBuffer, error.ErrorCode);
        Assert.Contains("stayed exhausted for 200 ms", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, pair.Client.FallbackWriteCount);
    }

    [Fact]
    public async Task Wait_honours_cancellation()
    {
        await using var pair = await ExhaustedPair.StartAsync(_accounting, ExhaustionPolicy.Wait);
        using var cts = new CancellationTokenSource(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pair.Stream.WriteAsync(Payload(99), cts.Token));
        Assert.Equal(0, pair.Client.FallbackWriteCount);
    }

    [Fact]
    public async Task FailFast_throws_a_clear_error_from_the_write_into_the_lease()
    {
        await using var pair = await ExhaustedPair.StartAsync(_accounting, ExhaustionPolicy.FailFast);
        var lease = pair.Stream.Rent();
        try
        {
            var error = Assert.Throws<ShmipcException>(() => lease.GetSpan(MessageSize));
            Assert.Equal(ShmipcErrorCode.NoMoreBuffer, error.ErrorCode);
            Assert.Contains("shared memory is exhausted", error.Message, StringComparison.Ordinal);
            Assert.Contains("FailFast", error.Message, StringComparison.Ordinal);
            Assert.True(lease.IsValid, "the lease stays valid after the error");
        }
        finally
        {
            lease.Dispose();
        }

        Assert.Equal(0, pair.Client.FallbackWriteCount);
        Assert.False(pair.Stream.IsInFallback);
    }

    [Fact]
    public async Task Fallback_sends_over_the_socket_and_reports_the_stream_in_fallback()
    {
        await using var pair = await ExhaustedPair.StartAsync(_accounting, ExhaustionPolicy.Fallback);
        Assert.False(pair.Stream.IsInFallback);
        await pair.Stream.WriteAsync(Payload(99));
        Assert.True(pair.Stream.IsInFallback);
        Assert.Equal(1, pair.Client.FallbackWriteCount);
        Assert.Equal(1, pair.Client.Statistics.FallbackEntries);

        using var cts = new CancellationTokenSource(Timeout);
        using (var message = await pair.Accepted.Input.ReadAsync(cts.Token))
        {
            Assert.Equal(Payload(99), message.ToArray());
        }

        Assert.Equal(1, pair.Server.FallbackReadCount);
    }

    [Fact]
    public async Task Statistics_account_for_the_slices_the_reader_holds()
    {
        await using var pair = await ExhaustedPair.StartAsync(_accounting, ExhaustionPolicy.Fallback);
        var server = pair.Server.Statistics;
        Assert.Equal(63, server.SlicesTotal);
        Assert.Equal(pair.Held.Count, server.LeasesHeld);
        Assert.Equal(pair.Held.Count, server.SlicesHeld);
        Assert.Equal(1, server.SlicesFree); // the last free slice of a list is never handed out (as in shmipc)
        Assert.Equal(62, server.SlicesInUse);
        Assert.Equal(0, pair.Client.Statistics.LeasesHeld);

        foreach (var lease in pair.Held)
        {
            lease.Dispose();
        }

        server = pair.Server.Statistics;
        Assert.Equal(0, server.LeasesHeld);
        Assert.Equal(0, server.SlicesHeld);
        Assert.Equal(63, server.SlicesFree);
    }

    internal static byte[] Payload(int seed)
    {
        var payload = new byte[MessageSize];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i + seed);
        }

        return payload;
    }

    /// <summary>A client and a server session whose reader holds every slice of the region.</summary>
    private sealed class ExhaustedPair : IAsyncDisposable
    {
        private readonly TempSocketPath _path;
        private readonly ShmipcListener _listener;

        private ExhaustedPair(TempSocketPath path, ShmipcListener listener, ShmipcSession client, ShmipcSession server, ShmipcStream stream, ShmipcStream accepted, List<ShmLease> held)
        {
            _path = path;
            _listener = listener;
            Client = client;
            Server = server;
            Stream = stream;
            Accepted = accepted;
            Held = held;
        }

        public ShmipcSession Client { get; }

        public ShmipcSession Server { get; }

        public ShmipcStream Stream { get; }

        public ShmipcStream Accepted { get; }

        public List<ShmLease> Held { get; }

        public static async Task<ExhaustedPair> StartAsync(SessionAccounting accounting, ExhaustionPolicy policy, TimeSpan? writeTimeout = null)
        {
            var path = new TempSocketPath();
            var listener = ShmipcListener.Bind(path.Path);
            var options = new ShmipcClientOptions
            {
                BufferCapacity = 1024 * 1024,
                SizeClasses = [new(16 * 1024, 100)],
                PathPrefix = accounting.Prefix(),
                ExhaustionPolicy = policy,
                WriteTimeout = writeTimeout ?? TimeSpan.FromSeconds(10),
            };
            using var cts = new CancellationTokenSource(Timeout);
            var client = accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
            var server = accounting.Track(await listener.AcceptAsync(cts.Token));
            var stream = client.OpenStream();
            var held = new List<ShmLease>();
            for (var i = 0; i < 62; i++)
            {
                await stream.WriteAsync(Payload(i), cts.Token);
            }

            var accepted = await server.AcceptStreamAsync(cts.Token);
            for (var i = 0; i < 62; i++)
            {
                held.Add(await accepted.Input.ReadAsync(cts.Token));
            }

            Assert.Equal(0, client.FallbackWriteCount);
            return new ExhaustedPair(path, listener, client, server, stream, accepted, held);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var lease in Held)
            {
                lease.Dispose();
            }

            await Client.DisposeAsync();
            await Server.DisposeAsync();
            await _listener.DisposeAsync();
            _path.Dispose();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
