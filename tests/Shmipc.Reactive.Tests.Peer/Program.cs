using System.Reactive.Linq;
using Shmipc.Channels;
using Shmipc.Reactive;
using Shmipc.Reactive.Tests.Peer;

// The peer of the cross-process tests: `pipeline <socket>` or `slow <socket>`.
// It is the client: it opens stream 2 (items from the test) and stream 3 (results to the test).
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Shmipc.Reactive.Tests.Peer pipeline|slow <socket path>");
    return 2;
}

using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));

Console.WriteLine($"started {args[0]}");
try
{
    return args[0] switch
    {
        "pipeline" => await RunPipelineAsync(args[1], cts.Token),
        "slow" => await RunSlowAsync(args[1], cts.Token),
        _ => 2,
    };
}
catch (Exception e)
{
    Console.Error.WriteLine($"peer failed: {e}");
    return 1;
}

static async Task<int> RunPipelineAsync(string socketPath, CancellationToken ct)
{
    await using var session = await ShmipcClient.ConnectAsync(socketPath, new ShmipcClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(10) }, ct);
    var input = session.OpenStream();
    var output = session.OpenStream();
    await Pipelines.Compose(input.Observe(ShmipcCodecs.Json(PeerJson.Default.Reading)))
        .WriteTo(output, ShmipcCodecs.Json(PeerJson.Default.Summary), ct);
    Console.WriteLine("pipeline done");
    return 0;
}

static async Task<int> RunSlowAsync(string socketPath, CancellationToken ct)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    // A small region (1 MiB of 16 KiB slices: about 60 messages) and a short IO queue: without back-pressure the
    // test's items would exhaust it and fall back to the socket. (16, not 8: with capacity 8 the amd64 queue header
    // puts the second queue's 8-byte head across a cache line, and the kernel throttles the split locks.)
    var options = new ShmipcClientOptions
    {
        BufferCapacity = 1024 * 1024,
        SizeClasses = [new(16 * 1024, 100)],
        QueueCapacity = 16,
        HandshakeTimeout = TimeSpan.FromSeconds(10),
        PathPrefix = $"/dev/shm/shmipc_rxpeer_{Guid.NewGuid():N}",
    };
    await using var session = await ShmipcClient.ConnectAsync(socketPath, options, ct);
    var input = session.OpenStream();
    var output = session.OpenStream();
    const int Prefetch = 8;
    var count = 0;
    var inOrder = true;
    var maxUnread = 0;
    var done = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
    using var subscription = input.Observe(ShmipcCodecs.Json(PeerJson.Default.Reading), Prefetch).Subscribe(
        r =>
        {
            // A slow consumer: every fifth item takes a while. (Not more often: on a loaded machine a 1 ms sleep can
            // last tens of milliseconds, and the point is only that the producer is faster than this.)
            if (r.Sequence % 5 == 0)
            {
                Thread.Sleep(1);
            }

            inOrder &= r.Sequence == count + 1;
            count++;
            maxUnread = Math.Max(maxUnread, input.Input.Count);
        },
        e => done.TrySetResult($"{e.GetType().Name}: {e.Message}"),
        () => done.TrySetResult(null));
    Console.WriteLine($"connected after {clock.ElapsedMilliseconds} ms");
    var error = await done.Task.WaitAsync(ct);
    Console.WriteLine($"consumed after {clock.ElapsedMilliseconds} ms");
    var report = new SlowReport(count, inOrder, maxUnread, session.FallbackReadCount, error);
    await Observable.Return(report).WriteTo(output, ShmipcCodecs.Json(PeerJson.Default.SlowReport), ct);
    Console.WriteLine($"slow done: {report}");
    return 0;
}
