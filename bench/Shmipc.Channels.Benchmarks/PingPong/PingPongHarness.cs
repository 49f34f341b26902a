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
        var children = new List<ServerProcess>();
        SpinLayout? spinLayout = null;
        var spinPath = $"/dev/shm/shmipc_bench_spin_{Guid.NewGuid():N}";
        QueueFloorLayout? queueLayout = null;
        var queuePath = $"/dev/shm/shmipc_bench_queue_{Guid.NewGuid():N}";
        var failed = false;
        var started = DateTime.UtcNow;
        var load = LoadAverage();
        try
        {
            PrintSetup(options, load);
            var runners = new List<TransportRunner>();
            if (options.RunFloor)
            {
                runners.Add(new FloorRunner());
            }

            if (options.RunSpin)
            {
                var maxSize = options.CellsBySize().Max(g => g.Key);
                spinLayout = SpinLayout.Create(spinPath, maxSize);
                var spinChild = await StartChildAsync(children, "spin", ["--transport", "spin", "--file", spinPath]);
                File.Delete(spinPath); // both processes have it mapped; nothing is left in /dev/shm whatever happens next
                runners.Add(new SpinRunner(spinLayout, spinChild));
            }

            var queueSizes = options.CellsBySize().SelectMany(g => g).Where(c => c.Kind == CellKind.PingPong && c.Streams == 1).Select(c => c.Size).ToArray();
            if (options.RunQueue && queueSizes.Length > 0)
            {
                queueLayout = QueueFloorLayout.Create(queuePath, queueSizes);
                var queueChild = await StartChildAsync(children, QueueFloorRunner.TransportName, ["--transport", "queue", "--file", queuePath]);
                File.Delete(queuePath); // as the spin file: mapped by both, gone from /dev/shm
                runners.Add(new QueueFloorRunner(queueLayout, queueChild));
            }

            if (options.RunUds)
            {
                var udsPath = Path.Combine(directory.FullName, "uds.sock");
                var udsChild = await StartChildAsync(children, "uds", ["--transport", "uds", "--socket", udsPath, "--uds-api", options.UdsSynchronous ? "sync" : "async"]);
                runners.Add(new UdsClientRunner(udsPath, options.UdsSynchronous, udsChild));
            }

            if (options.RunShmipc)
            {
                for (var m = 0; m < options.Modes.Count; m++)
                {
                    var mode = options.Modes[m];
                    var shmPath = Path.Combine(directory.FullName, $"shm{m}.sock");
                    List<string> serverArgs = ["--transport", "shmipc", "--socket", shmPath, "--mode", mode.Polling.ToString().ToLowerInvariant()];
                    if (mode.OnReactor)
                    {
                        serverArgs.Add("--on-reactor");
                    }

                    serverArgs.AddRange(mode.SpinArguments());

                    if (!options.Prefault)
                    {
                        serverArgs.Add("--no-prefault");
                    }

                    var child = await StartChildAsync(children, mode.Name, serverArgs);
                    runners.Add(new ShmipcClientRunner(shmPath, options, mode, child));
                }
            }

            for (var h = 0; h < options.Hogs; h++)
            {
                await StartChildAsync(children, $"hog{h}", ["--transport", "hog"]);
            }

            Console.WriteLine("server children: " + string.Join(", ", children.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} pid {c.Id}"))));
            Console.WriteLine();
            await WarmUpProcessesAsync(options, runners);
            var table = new ResultTable();
            ResultTable.PrintHeader();
            var group = 0;
            foreach (var cells in options.CellsBySize())
            {
                var size = cells.Key;
                var set = new MessageSet(size, seed: size);
                var results = cells.ToDictionary(c => c, _ => new List<CellResult>());
                // Rotate which transport goes first from one size to the next, so none always runs on a cooler machine.
                var order = runners.Skip(group % runners.Count).Concat(runners.Take(group % runners.Count)).ToList();
                group++;
                foreach (var runner in order)
                {
                    var supported = cells.Where(runner.Supports).ToList();
                    if (supported.Count == 0)
                    {
                        continue;
                    }

                    await runner.BeginSizeAsync(size);
                    try
                    {
                        foreach (var cell in supported)
                        {
                            results[cell].Add(await runner.RunAsync(cell, set, CellPlan.ForWarmup(options), CellPlan.ForMeasurement(options, cell.Streams)));
                        }
                    }
                    finally
                    {
                        await runner.EndSizeAsync();
                    }
                }

                foreach (var cell in cells)
                {
                    table.Add(cell, results[cell].OrderBy(r => runners.FindIndex(x => x.Name == r.Transport)).ToList());
                }
            }

            table.PrintTargets();
            if (options.OutPrefix is { } prefix)
            {
                var folder = Path.GetDirectoryName(Path.GetFullPath(prefix));
                if (folder is not null)
                {
                    Directory.CreateDirectory(folder);
                }

                table.WriteCsv(prefix + ".csv", load);
                ResultChart.Write(prefix + ".png", table, $"{Environment.ProcessorCount} cores, loadavg {load} at start{(options.Hogs > 0 ? $", {options.Hogs} CPU hogs" : string.Empty)}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
                Console.WriteLine($"wrote {prefix}.csv and {prefix}.png");
            }
        }
        catch (Exception e) when (e is ShmipcException or IOException or InvalidDataException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Console.Error.WriteLine($"pingpong failed: {e}");
            failed = true;
        }
        finally
        {
            foreach (var server in children)
            {
                server.Dispose();
                Console.WriteLine($"{server.Name} server (pid {server.Id}): {server.Stats ?? "no STATS line"}, exit code {server.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "killed"}");
                failed |= server.ExitCode != 0;
            }

            spinLayout?.Dispose();
            File.Delete(spinPath);
            queueLayout?.Dispose();
            File.Delete(queuePath);
            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a socket file the child still held.
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total time {(DateTime.UtcNow - started).TotalSeconds:0.0} s, loadavg at the end {LoadAverage()}"));
        return failed ? 1 : 0;
    }

    private static async Task<ServerProcess> StartChildAsync(List<ServerProcess> children, string name, IEnumerable<string> serverArgs)
    {
        var child = await ServerProcess.StartAsync(name, serverArgs, ReadyTimeout);
        children.Add(child);
        return child;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>
    /// One unmeasured second per transport on the first size before the table, so the first row does not pay for tiered
    /// JIT compilation (tier 0 → tier 1 of the hot paths in all processes) or thread-pool ramp-up.
    /// </summary>
    private static async Task WarmUpProcessesAsync(PingPongOptions options, IReadOnlyList<TransportRunner> runners)
    {
        var size = options.CellsBySize()[0].Key;
        var set = new MessageSet(size, seed: size);
        var plan = new CellPlan(TimeSpan.FromSeconds(1), long.MaxValue, 2);
        var none = new CellPlan(null, 1, 1);
        var cell = new CellSpec(CellKind.PingPong, size, 1);
        foreach (var runner in runners.Where(r => r.Supports(cell)))
        {
            await runner.BeginSizeAsync(size);
            try
            {
                await runner.RunAsync(cell, set, plan, none);
            }
            finally
            {
                await runner.EndSizeAsync();
            }
        }
    }

    private static void PrintSetup(PingPongOptions o, string load)
    {
        Console.WriteLine("shmipc vs .NET UDS vs the floors (shmipc-go BenchmarkParallelPingPong workload), two processes");
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {Environment.ProcessorCount} cores, loadavg {load}"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"shmipc configurations {string.Join(", ", o.Modes.Select(m => m.Name))}, {(o.Hogs > 0 ? $"{o.Hogs} CPU hog processes, " : string.Empty)}{o.MapType}, classes {(o.SingleClass ? "single {size,100%}" : "default 8172/32748/131052")}, region 256 MiB (512 MiB above 1 MB){(o.Prefault ? " prefaulted" : " cold")}, UDS api {(o.UdsSynchronous ? "sync" : "async")}"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"1 s unmeasured JIT warm-up per transport first; per cell and transport: warm-up {o.Warmup.TotalSeconds:0.###} s, then {(o.Iterations is { } n ? $"{n} round trips" : $"{o.Duration.TotalSeconds:0.###} s")}; streams {string.Join(",", o.Streams)}; sizes {string.Join(",", o.Sizes.Select(PingPongOptions.FormatSize))}"));
        Console.WriteLine(InterferenceProbe.Measure(TimeSpan.FromSeconds(1)));
    }
}
