using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// One in-process session (<see cref="InProcessSessionPair"/>: ShmipcListener + ShmipcClient over a Unix socket in a temp folder, memfd, default options):
/// the client writes a 64-byte message in place (Rent / GetSpan / Advance / Output.WriteAsync), a background echo loop
/// on the server stream copies it into a reply, and the client reads the reply from Input and disposes it.
/// </summary>
/// <remarks>
/// Both sessions live in this process and share the one reactor thread, so this measures the software path (queue put,
/// wake-up, reactor dispatch, channel hand-off, continuation) rather than cross-process cache traffic; the
/// <c>pingpong</c> verb measures two processes. "Allocated" includes the reactor thread and the echo loop.
/// </remarks>
[Config(typeof(FastConfig))]
[MemoryDiagnoser]
public class SessionRoundTripBenchmarks
{
    private const int MessageSize = 64;

    private readonly byte[] _payload = new byte[MessageSize];
    private InProcessSessionPair? _pair;
    private ShmipcStream? _stream;
    private Task? _echo;

    /// <summary>ShmipcOptions.RunContinuationsOnReactor on both sides (false: readers resume on the thread pool).</summary>
    [Params(false, true)]
    public bool OnReactor { get; set; }

    /// <summary>ShmipcOptions.PollingMode on both sides.</summary>
    [Params(PollingMode.Balanced)]
    public PollingMode Mode { get; set; } = PollingMode.Balanced;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    /// <summary>Connects, starts the echo loop and completes one round trip (the server sees the stream with its first message).</summary>
    public async Task SetupAsync()
    {
        new Random(42).NextBytes(_payload);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _pair = await InProcessSessionPair.ConnectAsync(
            new ShmipcServerOptions { RunContinuationsOnReactor = OnReactor, PollingMode = Mode },
            new ShmipcClientOptions { RunContinuationsOnReactor = OnReactor, PollingMode = Mode },
            cts.Token);
        var server = _pair.Server;
        _stream = _pair.Client.OpenStream();
        _echo = Task.Run(() => EchoAsync(server));
        var n = await RoundTrip().AsTask().WaitAsync(cts.Token);
        if (n != MessageSize)
        {
            throw new InvalidOperationException($"the echo returned {n} bytes, expected {MessageSize}");
        }
    }

    /// <summary>Closes the stream (ends the echo loop), the sessions and the listener; removes the temp folder.</summary>
    public async Task CleanupAsync()
    {
        _stream?.Output.TryComplete();
        if (_echo is not null)
        {
            await _echo.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _stream?.Dispose();
        if (_pair is not null)
        {
            await _pair.DisposeAsync();
        }
    }

    [Benchmark]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> RoundTrip()
    {
        var stream = _stream!;
        var lease = stream.Rent();
        _payload.CopyTo(lease.GetSpan(MessageSize));
        lease.Advance(MessageSize);
        await stream.Output.WriteAsync(lease);
        var reply = await stream.Input.ReadAsync();
        var length = reply.Length;
        reply.Dispose();
        return length;
    }

    private static async Task EchoAsync(ShmipcSession server)
    {
        var stream = await server.AcceptStreamAsync();
        try
        {
            while (true)
            {
                ShmLease request;
                try
                {
                    request = await stream.Input.ReadAsync();
                }
                catch (ChannelClosedException)
                {
                    return;
                }

                try
                {
                    var reply = stream.Rent();
                    var length = request.Length;
                    request.Data.CopyTo(reply.GetSpan(length));
                    reply.Advance(length);
                    await stream.Output.WriteAsync(reply);
                }
                finally
                {
                    request.Dispose();
                }
            }
        }
        finally
        {
            stream.Dispose();
        }
    }
}
