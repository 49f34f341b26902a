using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Shmipc.Channels.Benchmarks.PingPong;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels.Benchmarks.Soak;

/// <summary>
/// The <c>soak</c> verb: a long run of the cross-process harness. Starts an echo server child (<see cref="SoakServer"/>),
/// opens N sessions × M streams to it, and runs one ping-pong loop per stream for the given time: a message of random
/// size (log-uniform between the smallest and largest size, so small ones are common and the largest still come) with
/// random content, its echo compared byte for byte with what was sent. Prints a progress line per interval (throughput,
/// resident memory of both processes, managed heap, GC counts, slices in use, fds, fallbacks) and a verdict.
/// </summary>
/// <remarks>
/// Fails (exit code 1) when a round trip errs, an echo differs or does not come back within <c>--stall</c>; or, after
/// the warm-up (the first fifth of the run, at least 10 s), when resident memory of either process grows by more than a
/// quarter plus 32 MiB between the first and the last third of the samples, the managed heap after a full collection
/// grows by more than 32 MiB, session fds (sockets, eventfds, memfds, /dev/shm files) grow, slices are still in use once every loop has
/// stopped, or the process holds more session fds after closing every session than before opening them.
/// </remarks>
internal static class SoakHarness
{
    private const long GrowthSlackBytes = 32L * 1024 * 1024;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(SoakOptions.Usage);
            return 0;
        }

        if (args.Length >= 3 && args[0] == "--serve" && args[1] == "--socket")
        {
            return await SoakServer.RunAsync(args[2]).ConfigureAwait(false);
        }

        SoakOptions options;
        try
        {
            options = SoakOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        var directory = Directory.CreateTempSubdirectory("shmipc-soak-");
        try
        {
            var socket = Path.Combine(directory.FullName, "soak.sock");
            using var server = await ServerProcess.StartAsync("soak", ["--serve", "--socket", socket], ReadyTimeout, verb: "soak").ConfigureAwait(false);
            var failures = await new Run(options, socket, server).ExecuteAsync().ConfigureAwait(false);
            server.Stop();
            Console.WriteLine($"server: {server.Stats ?? "no STATS line"}, exit code {server.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none (killed)"}");
            if (server.ExitCode != 0)
            {
                failures.Add($"the server child exited with {server.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "no code (killed)"}");
            }

            if (failures.Count == 0)
            {
                Console.WriteLine("SOAK PASSED");
                return 0;
            }

            Console.WriteLine("SOAK FAILED");
            foreach (var failure in failures.Distinct().Take(20))
            {
                Console.WriteLine($"  {failure}");
            }

            return 1;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>One soak run from the client process's side.</summary>
    private sealed class Run(SoakOptions options, string socket, ServerProcess server)
    {
        private readonly List<string> _failures = [];
        private readonly List<SoakSample> _samples = [];
        private readonly List<ShmipcSession> _sessions = [];
        private readonly string _prefix = $"/dev/shm/shmipc_soak_{Environment.ProcessId}";
        private long _roundTrips;
        private long _bytes;
        private volatile bool _stopping;

        public async Task<List<string>> ExecuteAsync()
        {
            // One session first, closed again: what the process opens once for good (the reactor's epoll and eventfd)
            // is then open before the fd count at the start.
            await using (var warmup = await ConnectAsync().ConfigureAwait(false))
            {
                var stream = warmup.OpenStream();
                await stream.WriteAsync(new byte[] { 1 }).ConfigureAwait(false);
                using (await stream.Input.ReadAsync().ConfigureAwait(false))
                {
                }

                await stream.DisposeAsync().ConfigureAwait(false);
            }

            await SettleSparesAsync().ConfigureAwait(false);
            var startTargets = ProcessProbe.FdTargets(Environment.ProcessId);
            var startFds = startTargets.Count;
            var startRss = ProcessProbe.ResidentKiB(Environment.ProcessId);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak: {options.Sessions} sessions × {options.Streams} streams, {options.MinSize}–{options.MaxSize} B log-uniform, {options.Duration.TotalSeconds:0} s, {options.MapType}, region {options.Region / 1048576} MiB; start: {startFds} fds, RSS {startRss / 1024.0:0.0} MiB"));

            var loops = new List<Task>();
            for (var s = 0; s < options.Sessions; s++)
            {
                var session = await ConnectAsync().ConfigureAwait(false);
                _sessions.Add(session);
                for (var m = 0; m < options.Streams; m++)
                {
                    var stream = session.OpenStream();
                    var seed = options.Seed * 7919 + s * 1000 + m;
                    loops.Add(Task.Run(() => LoopAsync(stream, seed)));
                }
            }

            var warmupEnd = TimeSpan.FromSeconds(Math.Max(10, options.Duration.TotalSeconds / 5));
            var heapAfterWarmup = await SampleUntilDoneAsync(loops, warmupEnd).ConfigureAwait(false);
            _stopping = true;
            var stopped = Task.WhenAll(loops);
            if (await Task.WhenAny(stopped, Task.Delay(options.Stall)).ConfigureAwait(false) != stopped)
            {
                _failures.Add($"the stream loops did not stop within {options.Stall.TotalSeconds:0} s (a message is lost)");
            }

            await CheckQuiescentAsync().ConfigureAwait(false);
            var heapAtEnd = GC.GetTotalMemory(forceFullCollection: true);
            CheckGrowth(heapAfterWarmup, heapAtEnd, warmupEnd);

            foreach (var session in _sessions)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            await SettleSparesAsync().ConfigureAwait(false);
            var endFds = await WaitForFdsAsync(startFds).ConfigureAwait(false);
            var endRss = ProcessProbe.ResidentKiB(Environment.ProcessId);
            if (endFds > startFds)
            {
                var added = ProcessProbe.FdTargets(Environment.ProcessId);
                foreach (var target in startTargets)
                {
                    added.Remove(target);
                }

                _failures.Add($"{endFds} fds after closing every session, {startFds} before opening them; new: {string.Join(", ", added)}");
            }

            var seconds = _samples.Count > 0 ? _samples[^1].Elapsed.TotalSeconds : options.Duration.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"total: {_roundTrips:N0} round trips, {_bytes / 1048576.0:N0} MiB moved (both ways), {_bytes / 1048576.0 / seconds:0.0} MiB/s, {_roundTrips / seconds:0} round trips/s"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"client: RSS start {startRss / 1024.0:0.0} MiB, peak {_samples.DefaultIfEmpty().Max(x => x.ClientRssKiB) / 1024.0:0.0} MiB, end {endRss / 1024.0:0.0} MiB; managed heap after full GC {heapAfterWarmup / 1048576.0:0.0} MiB after warm-up, {heapAtEnd / 1048576.0:0.0} MiB at the end; GC gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}; fds start {startFds}, end {endFds}"));
            return _failures;
        }

        private Task<ShmipcSession> ConnectAsync() => ShmipcClient.ConnectAsync(socket, new ShmipcClientOptions
        {
            MemoryMapType = options.MapType,
            BufferCapacity = options.Region,
            PathPrefix = _prefix,
            HandshakeTimeout = TimeSpan.FromSeconds(30),
        });

        /// <summary>Prints a sample per interval until the duration is over or every loop ended; returns the managed heap after the warm-up.</summary>
        private async Task<long> SampleUntilDoneAsync(List<Task> loops, TimeSpan warmupEnd)
        {
            Console.WriteLine(SoakSample.Header);
            var started = Stopwatch.GetTimestamp();
            var heapAfterWarmup = -1L;
            var lastBytes = 0L;
            var lastAt = TimeSpan.Zero;
            var all = Task.WhenAll(loops);
            while (true)
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                var remaining = options.Duration - elapsed;
                if (remaining <= TimeSpan.Zero || all.IsCompleted)
                {
                    break;
                }

                var next = options.ReportInterval - TimeSpan.FromTicks(elapsed.Ticks % options.ReportInterval.Ticks);
                await Task.WhenAny(all, Task.Delay(next < remaining ? next : remaining)).ConfigureAwait(false);
                elapsed = Stopwatch.GetElapsedTime(started);
                if (heapAfterWarmup < 0 && elapsed >= warmupEnd)
                {
                    heapAfterWarmup = GC.GetTotalMemory(forceFullCollection: true);
                }

                var bytes = Interlocked.Read(ref _bytes);
                var sample = new SoakSample(
                    elapsed,
                    Interlocked.Read(ref _roundTrips),
                    bytes,
                    (bytes - lastBytes) / 1048576.0 / Math.Max(0.001, (elapsed - lastAt).TotalSeconds),
                    ProcessProbe.ResidentKiB(Environment.ProcessId),
                    ProcessProbe.ResidentKiB(server.Id),
                    GC.GetTotalMemory(forceFullCollection: false),
                    GC.CollectionCount(0),
                    GC.CollectionCount(1),
                    GC.CollectionCount(2),
                    _sessions.Sum(s => s.IsClosed ? 0 : s.Statistics.SlicesInUse),
                    ProcessProbe.OpenFds(Environment.ProcessId),
                    ProcessProbe.OpenFds(server.Id),
                    _sessions.Sum(s => s.FallbackWriteCount + s.FallbackReadCount));
                lastBytes = bytes;
                lastAt = elapsed;
                _samples.Add(sample);
                Console.WriteLine(sample);
            }

            return heapAfterWarmup < 0 ? GC.GetTotalMemory(forceFullCollection: true) : heapAfterWarmup;
        }

        /// <summary>Ping-pong on one stream until the run stops: random size and content, every echoed byte compared.</summary>
        private async Task LoopAsync(ShmipcStream stream, int seed)
        {
            var random = new Random(seed);
            var sent = GC.AllocateUninitializedArray<byte>(options.MaxSize);
            var count = 0L;
            try
            {
                while (!_stopping)
                {
                    var size = NextSize(random);
                    random.NextBytes(sent.AsSpan(0, size));
                    await stream.WriteAsync(sent.AsMemory(0, size)).ConfigureAwait(false);
                    using var echo = await stream.Input.ReadAsync().AsTask().WaitAsync(options.Stall).ConfigureAwait(false);
                    var mismatch = FirstMismatch(echo.Data, sent.AsSpan(0, size));
                    if (mismatch is { } at)
                    {
                        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"echo #{count} ({size} B) differs from what was sent at byte {at} (echo of {echo.Data.Length} B)"));
                    }

                    count++;
                    Interlocked.Increment(ref _roundTrips);
                    Interlocked.Add(ref _bytes, 2L * size);
                }

                await stream.DisposeAsync().ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Fail($"stream {stream.Id} of {stream.Session.Name}: no echo of message #{count} within {options.Stall.TotalSeconds:0} s (lost)");
            }
            catch (Exception e)
            {
                Fail($"stream {stream.Id} of {stream.Session.Name}: {e.GetType().Name}: {e.Message}");
            }
        }

        private int NextSize(Random random)
        {
            var low = Math.Log(options.MinSize);
            var high = Math.Log(options.MaxSize + 1.0);
            var size = (int)Math.Exp(low + (random.NextDouble() * (high - low)));
            return Math.Clamp(size, options.MinSize, options.MaxSize);
        }

        private static long? FirstMismatch(in ReadOnlySequence<byte> echo, ReadOnlySpan<byte> sent)
        {
            if (echo.Length != sent.Length)
            {
                return Math.Min(echo.Length, sent.Length);
            }

            var offset = 0;
            foreach (var segment in echo)
            {
                var expected = sent.Slice(offset, segment.Length);
                if (!segment.Span.SequenceEqual(expected))
                {
                    return offset + segment.Span.CommonPrefixLength(expected);
                }

                offset += segment.Length;
            }

            return null;
        }

        /// <summary>Once every loop stopped, every slice must come back to the free lists (the server releases asynchronously).</summary>
        private async Task CheckQuiescentAsync()
        {
            var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 10);
            long inUse;
            while ((inUse = _sessions.Sum(s => s.IsClosed ? 0 : s.Statistics.SlicesInUse)) > 0 && Stopwatch.GetTimestamp() < until)
            {
                await Task.Delay(20).ConfigureAwait(false);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"slices in use once every loop stopped: {inUse}"));
            if (inUse > 0)
            {
                _failures.Add($"{inUse} slices still in use 10 s after every loop stopped");
            }

            foreach (var session in _sessions.Where(s => s.IsClosed))
            {
                _failures.Add($"session {session.Name} closed during the run");
            }
        }

        private void CheckGrowth(long heapAfterWarmup, long heapAtEnd, TimeSpan warmupEnd)
        {
            if (heapAtEnd - heapAfterWarmup > GrowthSlackBytes)
            {
                _failures.Add(string.Create(CultureInfo.InvariantCulture, $"the managed heap grew from {heapAfterWarmup / 1048576.0:0.0} to {heapAtEnd / 1048576.0:0.0} MiB after the warm-up"));
            }

            var steady = _samples.Where(s => s.Elapsed >= warmupEnd).ToList();
            if (steady.Count < 3)
            {
                Console.WriteLine($"(only {steady.Count} samples after the warm-up: the growth checks need 3; run longer)");
                return;
            }

            var third = steady.Count / 3;
            var first = steady.Take(third);
            var last = steady.Skip(steady.Count - third);
            CheckRss("client", first.Average(s => (double)s.ClientRssKiB), last.Average(s => (double)s.ClientRssKiB));
            CheckRss("server", first.Average(s => (double)s.ServerRssKiB), last.Average(s => (double)s.ServerRssKiB));
            // A fixed set of sessions holds a fixed set of fds; the count may move for a moment (a close in progress),
            // so the most of the last third is compared with the most of the first.
            var (firstClient, lastClient) = (first.Max(s => s.ClientFds), last.Max(s => s.ClientFds));
            if (lastClient > firstClient)
            {
                _failures.Add($"the client's session fds grew from {firstClient} to {lastClient} during the run");
            }

            var (firstServer, lastServer) = (first.Max(s => s.ServerFds), last.Max(s => s.ServerFds));
            if (lastServer > firstServer)
            {
                _failures.Add($"the server's session fds grew from {firstServer} to {lastServer} during the run");
            }
        }

        private void CheckRss(string who, double firstKiB, double lastKiB)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{who} RSS: {firstKiB / 1024:0.0} MiB (first third after warm-up) → {lastKiB / 1024:0.0} MiB (last third)"));
            if ((lastKiB * 1024) > (firstKiB * 1024 * 1.25) + GrowthSlackBytes)
            {
                _failures.Add(string.Create(CultureInfo.InvariantCulture, $"{who} RSS grew from {firstKiB / 1024:0.0} to {lastKiB / 1024:0.0} MiB"));
            }
        }

        private static async Task<int> WaitForFdsAsync(int target)
        {
            var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 10);
            int fds;
            while ((fds = ProcessProbe.OpenFds(Environment.ProcessId)) > target && Stopwatch.GetTimestamp() < until)
            {
                await Task.Delay(20).ConfigureAwait(false);
            }

            return fds;
        }

        /// <summary>A spare region is prepared after the second connect of a configuration; let it finish and drop it.</summary>
        private static async Task SettleSparesAsync()
        {
            while (ClientSessionMemorySpares.IsPreparing)
            {
                await Task.Delay(10).ConfigureAwait(false);
            }

            ClientSessionMemorySpares.Clear();
        }

        private void Fail(string what)
        {
            lock (_failures)
            {
                _failures.Add(what);
            }

            Console.WriteLine($"FAIL {what}");
        }
    }
}
