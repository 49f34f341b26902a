using System.Diagnostics;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using Shmipc.Channels;
using Shmipc.Examples.RxPipeline;
using Shmipc.Reactive;

// One command, two processes: the parent binds a shmipc listener and starts itself again as the worker
// (`worker <socket>`). The parent publishes orders (JSON, source-generated) on stream 2; the worker composes an Rx
// pipeline over them and writes running totals back on stream 3; the parent prints them.
var orderCodec = ShmipcCodecs.Json(ExampleJson.Default.Order);
var totalsCodec = ShmipcCodecs.Json(ExampleJson.Default.Totals);
using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

if (args is ["worker", var workerSocket])
{
    return await RunWorkerAsync(workerSocket, cts.Token);
}

return await RunParentAsync(cts.Token);

async Task<int> RunParentAsync(CancellationToken ct)
{
    var socketPath = Path.Combine(Path.GetTempPath(), $"shmipc-rx-example-{Environment.ProcessId}.sock");
    // Handshake timeouts above the 1 s default: a loaded machine can be slow to start the second process's reactor.
    await using var listener = ShmipcListener.Bind(socketPath, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
    using var worker = StartWorker(socketPath);
    try
    {
        await using var session = await listener.AcceptAsync(ct);
        Console.WriteLine($"parent: {session} from worker pid {worker.Id}");

        // The worker opens "orders" (it observes) and "totals" (it writes); they arrive in either order, and are
        // taken here by name.
        var orders = await session.AcceptStreamAsync("orders", ct);
        var totals = await session.AcceptStreamAsync("totals", ct);

        var printed = totals.Observe(totalsCodec)
            .Do(t => Console.WriteLine($"parent: batch {t.Batch,2}  orders {t.Orders,4}  qty {t.Quantity,7}  notional {t.Notional,12:N2}  avg {t.AveragePrice,8:N4}"))
            .LastAsync()
            .ToTask(ct);

        const int Count = 500;
        string[] symbols = ["ACME", "GLOBEX", "INITECH", "UMBRELLA"];
        var source = Observable.Range(1, Count).Select(i => new Order(i, symbols[i % symbols.Length], i % 7 == 0 ? 0 : i % 50, 10m + i % 13));
        var clock = Stopwatch.StartNew();
        await source.WriteTo(orders, orderCodec, ct);
        var last = await printed;
        Console.WriteLine($"parent: sent {Count} orders, got {last.Batch} running totals back in {clock.ElapsedMilliseconds} ms; " +
                          $"fallback writes {session.FallbackWriteCount}");
        await worker.WaitForExitAsync(ct);
        Console.WriteLine($"parent: worker exited with {worker.ExitCode}");
        return worker.ExitCode;
    }
    finally
    {
        if (!worker.HasExited)
        {
            worker.Kill(entireProcessTree: true);
        }
    }
}

async Task<int> RunWorkerAsync(string socketPath, CancellationToken ct)
{
    await using var session = await ShmipcClient.ConnectAsync(socketPath, new ShmipcClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) }, ct);
    var orders = session.OpenStream("orders");
    var totals = session.OpenStream("totals");

    // The pipeline: drop empty orders, batch by ten, keep running totals, send each one back.
    await orders.Observe(orderCodec)
        .Where(o => o.Quantity > 0)
        .Buffer(10)
        .Scan(new Totals(0, 0, 0, 0m), (t, batch) => t.Add(batch))
        .WriteTo(totals, totalsCodec, ct);
    Console.WriteLine("worker: done");
    return 0;
}

static Process StartWorker(string socketPath)
{
    // Re-launch this program: through its apphost, or through `dotnet <dll>` when started that way.
    var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
    var info = new ProcessStartInfo(self) { UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
    {
        info.ArgumentList.Add(typeof(Order).Assembly.Location);
    }

    info.ArgumentList.Add("worker");
    info.ArgumentList.Add(socketPath);
    return Process.Start(info) ?? throw new InvalidOperationException("could not start the worker");
}
