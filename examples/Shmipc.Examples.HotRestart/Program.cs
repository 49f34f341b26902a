using System.Diagnostics;
using System.Globalization;
using Shmipc.Channels;
using Shmipc.Examples.HotRestart;

// Verb "server SOCKET ADMIN [--take-over]": one server generation. No arguments (or a number of restarts): the client.
if (args is ["server", var socketPath, var adminPath, ..])
{
    return await EchoServer.RunAsync(socketPath, adminPath, takeOver: args.Contains("--take-over"));
}

var restarts = args is [var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 5;
var directory = Directory.CreateTempSubdirectory("shmipc-hot-restart-").FullName;
var socket = Path.Combine(directory, "app.sock");
Console.WriteLine($"Shmipc.NET hot restart: a client pool under load while the server moves to a new process {restarts} times");

var generation = 0;
var server = await ServerChild.StartAsync(socket, directory, generation, takeOver: false);
Console.WriteLine($"  server generation 0 is process {server.ProcessId}, listening on {socket}");

var load = new PingPongLoad(streams: 4);
var failures = 0L;
var poolOptions = new ShmipcClientPoolOptions
{
    SessionCount = 2,
    HotRestartTimeout = TimeSpan.FromSeconds(10),
    ClientOptions = new ShmipcClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) },    // the machine may be busy
};
await using (var pool = await ShmipcClientPool.ConnectAsync(socket, poolOptions))
{
    var running = load.Start(pool);
    await load.WaitForRequestsAsync(2000);
    for (var epoch = 1UL; epoch <= (ulong)restarts; epoch++)
    {
        // 1. The new process binds the same path with TakeOverSocketPath: new connections reach it from now on.
        generation++;
        var next = await ServerChild.StartAsync(socket, directory, generation, takeOver: true);

        // 2. The application's trigger (here an admin Unix socket) tells the old server to hot-restart: it sends
        //    HotRestart(epoch) to every session; the pool dials the path again (the new server), moves new streams
        //    there and acknowledges; the old server serves what was in flight, then exits.
        var before = load.Completed;
        var trigger = Stopwatch.StartNew();
        var report = await server.HotRestartAsync(epoch);
        var exitMs = trigger.ElapsedMilliseconds;
        await server.WaitForExitAsync();
        var newServed = await next.ServedAsync();
        failures = load.Failures;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  restart {epoch}: old server {server.ProcessId} served {report.Served} requests in all (acknowledged after {report.AckMs} ms), " +
            $"new server {next.ProcessId} served {newServed} so far; {failures} failed; the old server could exit {exitMs} ms after the trigger"));
        server = next;
        await load.WaitForRequestsAsync(load.Completed - before + 500);
    }

    load.Stop();
    await running;
    failures = load.Failures;
    Console.WriteLine($"  the pool completed {pool.HotRestartCount} hot restarts (epoch {pool.HotRestartEpoch}), rebuilt {pool.RebuildCount} sessions");
}

var lastServed = await server.ServedAsync();
await server.StopAsync();
Directory.Delete(directory, recursive: true);
Console.WriteLine($"  {load.Completed} requests in all ({lastServed} by the last server), {failures} failed, first failure: {load.FirstFailure ?? "none"}");
Console.WriteLine(failures == 0 ? "OK: no request failed across the restarts." : "FAILED: some requests failed.");
return failures == 0 ? 0 : 1;
