using System.Diagnostics;
using System.Globalization;
using Shmipc.Channels.Benchmarks.PingPong;

namespace Shmipc.Channels.Benchmarks.Connect;

/// <summary>
/// The <c>connect-cost</c> verb: how long a client session takes to connect and how much memory open sessions cost.
/// A <c>pingpong-server</c> child (no prefault) accepts; this process connects <c>--sessions</c> client sessions one
/// after another and keeps them open, then closes them all. Prints the connect times (each from the call to the
/// returned session), the growth of the machine's shared memory (<c>Shmem</c> in /proc/meminfo: pages of memfds and
/// /dev/shm files, counted once however many processes map them) and of this process's <c>RssShmem</c>, while open and
/// after closing.
/// </summary>
/// <remarks>Usage: <c>connect-cost [--sessions N] [--rounds R] [--file] [--buffer BYTES] [--gap MS] [--breakdown] [--first-copy]</c>.</remarks>
internal static class ConnectCost
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        var sessions = 16;
        var rounds = 3;
        var mode = MemoryMapType.MemFd;
        long? buffer = null;
        var breakdown = false;
        var firstCopy = false;
        var gap = TimeSpan.Zero;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sessions":
                    sessions = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--rounds":
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--file":
                    mode = MemoryMapType.DevShmFile;
                    break;
                case "--gap":
                    gap = TimeSpan.FromMilliseconds(int.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                case "--breakdown":
                    breakdown = true;
                    break;
                case "--first-copy":
                    firstCopy = true;
                    break;
                case "--buffer":
                    buffer = long.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"connect-cost: unknown option {args[i]}");
                    return 2;
            }
        }

        if (firstCopy)
        {
            FirstCopyCost.Run(buffer ?? new ShmipcClientOptions().BufferCapacity, rounds * 5);
            return 0;
        }

        if (breakdown)
        {
            RegionCreateCost.Run(buffer ?? new ShmipcClientOptions().BufferCapacity, 20);
            return 0;
        }

        var dir = Directory.CreateTempSubdirectory("shmipc-connect-").FullName;
        var socket = Path.Combine(dir, "s.sock");
        using var server = await ServerProcess.StartAsync("shmipc", ["--transport", "shmipc", "--socket", socket, "--no-prefault"], ReadyTimeout);
        try
        {
            var options = new ShmipcClientOptions { MemoryMapType = mode, HandshakeTimeout = TimeSpan.FromSeconds(10) };
            if (buffer is { } b)
            {
                options.BufferCapacity = b;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connect-cost: {mode}, region {options.BufferCapacity / (1024 * 1024)} MiB, {sessions} sessions kept open, {rounds} rounds, {gap.TotalMilliseconds:0} ms between connects"));

            // Warm up the JIT, the reactor and the socket path.
            for (var i = 0; i < 3; i++)
            {
                await using var warm = await ShmipcClient.ConnectAsync(socket, options);
            }

            var times = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var shmemBefore = MemInfoKiB("/proc/meminfo", "Shmem:");
                var rssBefore = MemInfoKiB("/proc/self/status", "RssShmem:");
                var open = new List<ShmipcSession>();
                for (var i = 0; i < sessions; i++)
                {
                    if (gap > TimeSpan.Zero)
                    {
                        // Connects spaced out, as reconnects after a server death are (not timed).
                        await Task.Delay(gap);
                    }

                    var start = Stopwatch.GetTimestamp();
                    open.Add(await ShmipcClient.ConnectAsync(socket, options));
                    times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }

                var shmemOpen = MemInfoKiB("/proc/meminfo", "Shmem:") - shmemBefore;
                var rssOpen = MemInfoKiB("/proc/self/status", "RssShmem:") - rssBefore;
                foreach (var s in open)
                {
                    await s.DisposeAsync();
                }

                // Closing completes asynchronously on the reactor; wait (bounded) for the memory to come back.
                var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 5;
                long shmemClosed;
                do
                {
                    await Task.Delay(20);
                    shmemClosed = MemInfoKiB("/proc/meminfo", "Shmem:") - shmemBefore;
                }
                while (shmemClosed > shmemOpen / 10 && Stopwatch.GetTimestamp() < deadline);

                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"round {round}: open: Shmem +{shmemOpen / 1024.0:0.0} MiB, RssShmem +{rssOpen / 1024.0:0.0} MiB; closed: Shmem {shmemClosed / 1024.0:+0.0;-0.0} MiB"));
            }

            times.Sort();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"connect ms: min {times[0]:0.00}, median {times[times.Count / 2]:0.00}, p90 {times[(int)(times.Count * 0.9)]:0.00}, max {times[^1]:0.00} ({times.Count} connects)"));
            return 0;
        }
        finally
        {
            server.Stop();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static long MemInfoKiB(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
