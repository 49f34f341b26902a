using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Shmipc.Examples.Grpc;

namespace Shmipc.Channels.Benchmarks.Grpc;

/// <summary>
/// <c>grpc</c> verb: the same ASP.NET Core gRPC server process (the gRPC example's) listening on shmipc, a Unix domain
/// socket and TCP loopback; this process calls it through Grpc.Net.Client over each in turn. Per payload size: unary
/// latency one call at a time (p50, p99) and throughput with several calls in flight on one channel (calls/s); then a
/// server-streaming call (messages/s, MB/s).
/// </summary>
/// <remarks>Options: <c>--seconds S</c> per throughput cell (default 2), <c>--warmup S</c> per transport (default 4), <c>--concurrency N</c> (default 8), <c>--sizes 64,4096,...</c>, <c>--transports shmipc,unix,tcp</c> (default all), <c>--no-stream</c>, <c>--stream-messages N</c> (default 2000).</remarks>
internal static class GrpcBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 2.0);
        var warmup = Option(args, "--warmup", 4.0);
        var streamMessages = (int)Option(args, "--stream-messages", 2000);
        var concurrency = (int)Option(args, "--concurrency", 8);
        var sizes = OptionList(args, "--sizes") ?? [64, 4096, 65536, 1024 * 1024];
        var dir = Directory.CreateTempSubdirectory("shmipc-grpc-bench-").FullName;
        try
        {
            var shmipc = Path.Combine(dir, "shmipc.sock");
            var uds = Path.Combine(dir, "uds.sock");
            using var server = EchoProcess.StartServer(shmipc, uds, tcpPort: 0);
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(20));
            await server.WaitReadyAsync(cts.Token);
            var tcp = server.TcpAddress ?? throw new InvalidOperationException("the server printed no TCP address");
            Console.WriteLine($"gRPC echo server process {server.Id}: shmipc {shmipc}, unix socket {uds}, tcp {tcp}");
            Console.WriteLine($"unary: latency one call at a time; throughput {concurrency} calls in flight on one channel for {seconds:F1} s; warm-up {warmup:F0} s per transport; {Environment.ProcessorCount} cores, load {LoadAverage()}");

            var all = new (string Name, Func<GrpcChannel> Create)[]
            {
                ("shmipc", () => EchoClientDemo.CreateChannel(shmipc)),
                ("unix socket", () => CreateUdsChannel(uds)),
                ("tcp loopback", () => GrpcChannel.ForAddress(tcp, Options(new SocketsHttpHandler { EnableMultipleHttp2Connections = true }))),
            };
            var only = OptionWords(args, "--transports");
            var transports = only is null ? all : all.Where(t => only.Contains(t.Name.Split(' ')[0])).ToArray();
            var streaming = !args.Contains("--no-stream");
            using var counters = new ShmipcCounters();

            // Warm every transport up first, for --warmup seconds each, one call at a time and with calls in flight, small
            // and large: a short pass leaves tiered JIT compilation (which runs in the background, on one of only two
            // cores here) to land inside the first measured row, which then pays for it whatever its transport.
            foreach (var (_, create) in transports)
            {
                using var channel = create();
                var client = new Echo.EchoClient(channel);
                var until = Stopwatch.StartNew();
                foreach (var warmSize in new[] { 64, 4096, 65536 })
                {
                    var warm = new Payload { Data = ByteString.CopyFrom(new byte[warmSize]) };
                    await ThroughputAsync(client, warm, concurrency, TimeSpan.FromSeconds(warmup / 4), cts.Token);
                    for (var i = 0; i < 200; i++)
                    {
                        await client.UnaryAsync(warm, cancellationToken: cts.Token);
                    }
                }

                await StreamAsync(client, 2000, cts.Token);
                while (until.Elapsed.TotalSeconds < warmup)
                {
                    await client.UnaryAsync(new Payload { Data = ByteString.CopyFrom(new byte[4096]) }, cancellationToken: cts.Token);
                }
            }

            Console.WriteLine($"{"size",8} {"transport",-13} {"p50 µs",10} {"p99 µs",10} {"calls/s",10} {"MB/s",8} {"CPU µs",9}   (CPU: both processes, user + system, per call while 8 are in flight)");
            foreach (var size in sizes)
            {
                foreach (var (name, create) in transports)
                {
                    using var channel = create();
                    var client = new Echo.EchoClient(channel);
                    var payload = new Payload { Data = ByteString.CopyFrom(new byte[size]) };
                    var latencyCalls = size >= 1024 * 1024 ? 100 : size >= 65536 ? 400 : 2000;
                    for (var i = 0; i < Math.Max(20, latencyCalls / 10); i++)
                    {
                        await client.UnaryAsync(payload, cancellationToken: cts.Token);
                    }

                    var before = counters.Read();
                    var (p50, p99) = await LatencyAsync(client, payload, latencyCalls, cts.Token);
                    var cpu = Cpu(server.Id);
                    var sw = Stopwatch.StartNew();
                    var rate = await ThroughputAsync(client, payload, concurrency, TimeSpan.FromSeconds(seconds), cts.Token);
                    var cpuPerCall = (Cpu(server.Id) - cpu).TotalMicroseconds / (rate * sw.Elapsed.TotalSeconds);
                    Console.WriteLine($"{size,8} {name,-13} {p50,10:F1} {p99,10:F1} {rate,10:F0} {rate * size * 2 / 1e6,8:F1} {cpuPerCall,9:F1}{counters.Since(before)}");
                }
            }

            Console.WriteLine($"server streaming: {streamMessages} messages of 4096 bytes (Download)");
            foreach (var (name, create) in streaming ? transports : [])
            {
                using var channel = create();
                var client = new Echo.EchoClient(channel);
                await StreamAsync(client, 200, cts.Token);
                var before = counters.Read();
                var cpu = Cpu(server.Id);
                var sw = Stopwatch.StartNew();
                var count = await StreamAsync(client, streamMessages, cts.Token);
                var rate = count / sw.Elapsed.TotalSeconds;
                var cpuPerMessage = (Cpu(server.Id) - cpu).TotalMicroseconds / count;
                Console.WriteLine($"{"4096",8} {name,-13} {"",10} {"",10} {rate,10:F0} {rate * 4096 / 1e6,8:F1} {cpuPerMessage,9:F1}   (messages/s, CPU µs/message){counters.Since(before)}");
            }

            await server.StopAsync(cts.Token);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static GrpcChannelOptions Options(HttpMessageHandler handler) => new()
    {
        HttpHandler = handler,
        MaxReceiveMessageSize = EchoServer.MaxMessageBytes,
        MaxSendMessageSize = EchoServer.MaxMessageBytes,
    };

    private static GrpcChannel CreateUdsChannel(string path)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://localhost", Options(handler));
    }

    private static async Task<(double P50, double P99)> LatencyAsync(Echo.EchoClient client, Payload payload, int calls, CancellationToken cancellationToken)
    {
        var micros = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.UnaryAsync(payload, cancellationToken: cancellationToken);
            micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(micros);
        return (micros[calls / 2], micros[Math.Min(calls - 1, (int)(calls * 0.99))]);
    }

    private static async Task<double> ThroughputAsync(Echo.EchoClient client, Payload payload, int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        long done = 0;
        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (sw.Elapsed < duration)
            {
                await client.UnaryAsync(payload, cancellationToken: cancellationToken);
                Interlocked.Increment(ref done);
            }
        });
        await Task.WhenAll(workers);
        return done / sw.Elapsed.TotalSeconds;
    }

    private static async Task<int> StreamAsync(Echo.EchoClient client, int count, CancellationToken cancellationToken)
    {
        using var call = client.Download(new DownloadRequest { Count = count, Size = 4096 }, cancellationToken: cancellationToken);
        var received = 0;
        await foreach (var _ in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            received++;
        }

        return received;
    }

    /// <summary>User + system CPU of this process and the server process (/proc, clock-tick resolution).</summary>
    private static TimeSpan Cpu(int serverPid)
    {
        using var self = Process.GetCurrentProcess();
        using var server = Process.GetProcessById(serverPid);
        return self.TotalProcessorTime + server.TotalProcessorTime;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string[]? OptionWords(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1].Split(',') : null;
    }

    private static int[]? OptionList(string[] args, string name) =>
        OptionWords(args, name)?.Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
