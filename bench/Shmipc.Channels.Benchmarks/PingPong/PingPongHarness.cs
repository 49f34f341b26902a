using System.Globalization;
using System.Runtime.InteropServices;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The <c>pingpong</c> verb: shmipc-go's BenchmarkParallelPingPong workload (docs/PROTOCOL.md §12) across two processes,
/// shmipc and plain .NET Unix domain sockets side by side in one run. Starts two <c>pingpong-server</c> children (one
/// per transport), then for each payload size and stream count measures both transports back to back (alternating
/// which goes first) and prints one table row.
/// </summary>
/// <remarks>
/// Work per round trip, identical on both transports: the client copies the request (8-byte checksum header + random
/// bytes) into the transport's buffer (a shared-memory lease / a frame buffer), sends it; the server reads and
/// checksums every byte, copies every byte into a reply; the client reads and checksums every byte of the reply and
/// compares it with what it sent. Latency = that whole loop body, per round trip, in an HdrHistogram. Throughput counts
/// request + response bytes over the wall time of the cell.
/// </remarks>
internal static class PingPongHarness
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(PingPongOptions.Usage);
            return 0;
        }

        PingPongOptions options;
        try
        {
            options = PingPongOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"pingpong: {e.Message}");
            Console.Error.WriteLine(PingPongOptions.Usage);
            return 2;
        }

        var directory = Directory.CreateTempSubdirectory("shmipc-pingpong-");
        var shmPath = Path.Combine(directory.FullName, "shm.sock");
        var udsPath = Path.Combine(directory.FullName, "uds.sock");
        ServerProcess? shmServer = null;
        ServerProcess? udsServer = null;
        var failed = false;
        var started = DateTime.UtcNow;
        try
        {
            PrintSetup(options);
            var mode = options.Mode.ToString().ToLowerInvariant();
            if (options.RunShmipc)
            {
                List<string> serverArgs = ["--transport", "shmipc", "--socket", shmPath, "--mode", mode];
                if (options.OnReactor)
                {
                    serverArgs.Add("--on-reactor");
                }

                if (!options.Prefault)
                {
                    serverArgs.Add("--no-prefault");
                }

                shmServer = await ServerProcess.StartAsync("shmipc", serverArgs, ReadyTimeout);
            }

            if (options.RunUds)
            {
                udsServer = await ServerProcess.StartAsync("uds", ["--transport", "uds", "--socket", udsPath, "--uds-api", options.UdsSynchronous ? "sync" : "async"], ReadyTimeout);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"server children: shmipc pid {shmServer?.Id.ToString(CultureInfo.InvariantCulture) ?? "-"}, uds pid {udsServer?.Id.ToString(CultureInfo.InvariantCulture) ?? "-"}"));
            Console.WriteLine();
            var uds = options.RunUds ? new UdsClientRunner(udsPath, options.UdsSynchronous) : null;
            await WarmUpProcessesAsync(options, shmPath, uds);
            var table = new ResultTable();
            ResultTable.PrintHeader();
            var cell = 0;
            var shmChild = shmServer;
            var udsChild = udsServer;
            Func<TimeSpan> shmCpu = () => CpuMeter.Sample(shmChild);
            Func<TimeSpan> udsCpu = () => CpuMeter.Sample(udsChild);
            foreach (var size in options.Sizes)
            {
                var set = new MessageSet(size, seed: size);
                var shm = options.RunShmipc ? await ShmipcClientRunner.ConnectAsync(shmPath, options, size) : null;
                try
                {
                    foreach (var streams in options.Streams)
                    {
                        var warmup = CellPlan.ForWarmup(options);
                        var measure = CellPlan.ForMeasurement(options, streams);
                        CellResult? shmResult = null;
                        CellResult? udsResult = null;
                        if (cell++ % 2 == 0 || uds is null)
                        {
                            shmResult = shm is null ? null : await shm.RunAsync(set, streams, warmup, measure, shmCpu);
                            udsResult = uds is null ? null : await uds.RunAsync(set, streams, warmup, measure, udsCpu);
                        }
                        else
                        {
                            udsResult = await uds.RunAsync(set, streams, warmup, measure, udsCpu);
                            shmResult = shm is null ? null : await shm.RunAsync(set, streams, warmup, measure, shmCpu);
                        }

                        table.Add(shmResult, udsResult);
                    }
                }
                finally
                {
                    if (shm is not null)
                    {
                        await shm.DisposeAsync();
                    }
                }
            }

            table.PrintTargets();
        }
        catch (Exception e) when (e is ShmipcException or IOException or InvalidDataException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Console.Error.WriteLine($"pingpong failed: {e}");
            failed = true;
        }
        finally
        {
            foreach (var server in new[] { shmServer, udsServer })
            {
                if (server is null)
                {
                    continue;
                }

                server.Dispose();
                Console.WriteLine($"{server.Name} server (pid {server.Id}): {server.Stats ?? "no STATS line"}, exit code {server.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "killed"}");
                failed |= server.ExitCode != 0;
            }

            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a socket file the child still held.
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total time {(DateTime.UtcNow - started).TotalSeconds:0.0} s"));
        return failed ? 1 : 0;
    }

    /// <summary>
    /// One unmeasured second per transport on the first size before the table, so the first row does not pay for tiered
    /// JIT compilation (tier 0 → tier 1 of the hot paths in all three processes) or thread-pool ramp-up.
    /// </summary>
    private static async Task WarmUpProcessesAsync(PingPongOptions options, string shmPath, UdsClientRunner? uds)
    {
        var size = options.Sizes[0];
        var set = new MessageSet(size, seed: size);
        var plan = new CellPlan(TimeSpan.FromSeconds(1), long.MaxValue, 2);
        var none = new CellPlan(null, 1, 1);
        Func<TimeSpan> noCpu = () => TimeSpan.Zero;
        if (options.RunShmipc)
        {
            var shm = await ShmipcClientRunner.ConnectAsync(shmPath, options, size);
            await using (shm)
            {
                await shm.RunAsync(set, 1, plan, none, noCpu);
            }
        }

        if (uds is not null)
        {
            await uds.RunAsync(set, 1, plan, none, noCpu);
        }
    }

    private static void PrintSetup(PingPongOptions o)
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
        Console.WriteLine("shmipc vs .NET UDS ping-pong (shmipc-go BenchmarkParallelPingPong workload), two processes");
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {Environment.ProcessorCount} cores, loadavg {load}"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"mode {o.Mode}, RunContinuationsOnReactor {o.OnReactor}, {o.MapType}, classes {(o.SingleClass ? "single {size,100%}" : "default 8172/32748/131052")}, region 256 MiB (512 MiB above 1 MB){(o.Prefault ? " prefaulted" : " cold")}, UDS api {(o.UdsSynchronous ? "sync" : "async")}"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"1 s unmeasured JIT warm-up per transport first; per cell and transport: warm-up {o.Warmup.TotalSeconds:0.###} s, then {(o.Iterations is { } n ? $"{n} round trips" : $"{o.Duration.TotalSeconds:0.###} s")}; streams {string.Join(",", o.Streams)}; sizes {string.Join(",", o.Sizes.Select(PingPongOptions.FormatSize))}"));
    }
}
