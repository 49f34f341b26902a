using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// One in-process session whose client writes 64-byte messages back to back on one stream and never waits for an
/// answer, while a sink on the server side reads and disposes each: the one-way case of <c>alloc-probe --smoke</c>.
/// The IO queue holds only <see cref="QueueCapacity"/> elements, so the writer keeps finding it full and waits for room
/// (<c>Session.WaitForQueueRoomAsync</c>), the path a sender that outruns its reader takes.
/// </summary>
internal sealed class OneWayProbe : IAsyncDisposable
{
    public const int QueueCapacity = 64;
    private const int MessageSize = 64;

    private readonly byte[] _payload = new byte[MessageSize];
    private InProcessSessionPair? _pair;
    private ShmipcStream? _stream;
    private Task? _sink;
    private ShmipcStream? _sinkStream;
    private TaskCompletionSource? _hold;
    private long _received;

    /// <summary>Messages the sink has read so far.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Times the client's writer found the queue full.</summary>
    public long QueueFullEvents => _pair?.Client.Engine.Metrics.QueueFullEvents ?? 0;

    /// <summary>Messages the client sent over the socket because shared memory was exhausted (should stay 0).</summary>
    public long FallbackWrites => _pair?.Client.Engine.Metrics.FallbackWrites ?? 0;

    /// <summary>Connects with the given options on both sides, starts the sink and sends one message through.</summary>
    public static async Task<OneWayProbe> StartAsync(PollingMode mode, bool onReactor)
    {
        var probe = new OneWayProbe();
        try
        {
            await probe.SetupAsync(mode, onReactor);
            return probe;
        }
        catch
        {
            await probe.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes <paramref name="count"/> messages back to back, then waits until the sink has read them all.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(int count)
    {
        var target = Received + count;
        await SendUnconfirmedAsync(count);
        WaitForReceived(target);
    }

    /// <summary>
    /// Warms up and then fills the receiving side's backlog once (<see cref="FillReceiveBacklogAsync"/>) to the
    /// largest the receive budget allows, so a measurement that follows sees the steady state.
    /// </summary>
    public async Task WarmUpAsync(int messages)
    {
        await SendAsync(messages);
        await FillReceiveBacklogAsync(new ShmipcServerOptions().ReceiveBudgetMessages - QueueCapacity);
        await SendAsync(messages);
    }

    /// <summary>
    /// Warms the receiving side up to its largest backlog: the sink stops reading while <paramref name="count"/>
    /// messages queue up in its input (each holding a pooled lease), then drains them. Until the backlog has once been as
    /// large as it can get (ShmipcOptions.ReceiveBudgetMessages), a new high grows the lease pool and the input queue,
    /// which allocates; after this a measurement sees the steady state.
    /// </summary>
    private async Task FillReceiveBacklogAsync(int count)
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _hold, hold);
        var target = Received + count;
        await SendUnconfirmedAsync(count);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((_sinkStream?.Input.Count ?? 0) < count - 1)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"one-way probe: only {_sinkStream?.Input.Count} of {count} messages queued up within 30 s");
            }

            await Task.Delay(1);
        }

        Volatile.Write(ref _hold, null);
        hold.SetResult();
        WaitForReceived(target);
    }

    public async ValueTask DisposeAsync()
    {
        _stream?.Output.TryComplete();
        if (_sink is not null)
        {
            await _sink.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _stream?.Dispose();
        if (_pair is not null)
        {
            await _pair.DisposeAsync();
        }
    }

    /// <summary>Blocks until the sink has read <paramref name="target"/> messages in all (30 s at most); allocation-free.</summary>
    private void WaitForReceived(long target)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var spin = default(SpinWait);
        while (Received < target)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"one-way probe: the sink read {Received} of {target} messages within 30 s");
            }

            spin.SpinOnce(); // sleeps after a few rounds
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendUnconfirmedAsync(int count)
    {
        var stream = _stream!;
        for (var i = 0; i < count; i++)
        {
            var lease = stream.Rent();
            _payload.CopyTo(lease.GetSpan(MessageSize));
            lease.Advance(MessageSize);
            await stream.Output.WriteAsync(lease);
        }
    }

    private async Task SetupAsync(PollingMode mode, bool onReactor)
    {
        new Random(7).NextBytes(_payload);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _pair = await InProcessSessionPair.ConnectAsync(
            new ShmipcServerOptions { RunContinuationsOnReactor = onReactor, PollingMode = mode },
            new ShmipcClientOptions
            {
                RunContinuationsOnReactor = onReactor,
                PollingMode = mode,
                QueueCapacity = QueueCapacity,

                // 64-byte slices (32 MiB: ~400 000 of them), so even a backlog as large as the receive budget keeps
                // every message in shared memory: the socket fallback of an exhausted region allocates by design.
                SizeClasses = [new BufferSizeClass(MessageSize, 100)],
            },
            cts.Token);
        var server = _pair.Server;
        _stream = _pair.Client.OpenStream();
        _sink = Task.Run(() => SinkAsync(server));
        await SendAsync(1).AsTask().WaitAsync(cts.Token);
    }

    private async Task SinkAsync(ShmipcSession server)
    {
        await using var session = server;
        var stream = await session.AcceptStreamAsync();
        _sinkStream = stream;
        try
        {
            while (true)
            {
                if (Volatile.Read(ref _hold) is { } hold)
                {
                    await hold.Task;
                }

                ShmLease message;
                try
                {
                    message = await stream.Input.ReadAsync();
                }
                catch (ChannelClosedException)
                {
                    return;
                }

                message.Dispose();
                Interlocked.Increment(ref _received);
            }
        }
        finally
        {
            stream.Dispose();
        }
    }
}
