using System.Globalization;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>Options of the <c>pingpong</c> verb (see <see cref="Usage"/>).</summary>
internal sealed class PingPongOptions
{
    public const string Usage = """
        pingpong [options]      cross-process round trips, shmipc vs .NET Unix domain sockets, in one run
          --sizes LIST          payload sizes (default 64B,512B,1KB,4KB,16KB,64KB,256KB,512KB,1MB,4MB; units B, KB, MB = 1024-based)
          --streams LIST        concurrent stream counts, one cell each (default 1,4)
          --duration SECONDS    measured time per cell and transport (default 1)
          --iterations N        measured round trips per cell and transport instead of --duration (split over the streams)
          --warmup SECONDS      unmeasured warm-up per cell and transport (default 0.2; at least 2 round trips per stream)
          --rows LIST           pingpong (sizes x streams), rate (--rate-streams x 64B round trips), oneway
                                (sender never waits, receiver checksums; --oneway-sizes); default all three
          --rate-streams N      streams of the rate row (default 16)
          --oneway-sizes LIST   payload sizes of the one-way rows (default 64B,4KB)
          --mode M              PollingMode of both sides: balanced (default) | latency | lowcpu
          --on-reactor          RunContinuationsOnReactor = true on both sides
          --modes LIST          several shmipc configurations side by side, one server child and column each:
                                MODE[+reactor][+yN], e.g. balanced,latency,balanced+reactor (overrides --mode/--on-reactor);
                                +yN: spins yield the core every N rounds and pause on the others (both processes;
                                default 64), to compare spin strategies side by side, e.g. latency,latency+y1
          --memfd | --file      shared memory as memfd (default) or /dev/shm files
          --classes C           single (default): one slice class {size, 100%} per payload size, as shmipc-go's bench;
                                default: shmipc's 8172/32748/131052 classes, large payloads become slice chains
          --no-prefault         do not map every page of the buffer region in both processes before measuring
                                (default: prefault, i.e. measure the steady state of a long-running process)
          --uds-api A           async (default: await Socket.SendAsync/ReceiveAsync, like the shmipc client) | sync
                                (one blocking thread per connection)
          --transports LIST     floor,spin,queue,uds,shmipc (default all): floor = the same copies and checksums in
                                this process without IPC; spin = two processes spinning on two flags in a /dev/shm file
                                (one stream, round trips only); queue = two processes spinning on shmipc's own
                                shared-memory structures (IO queues and a buffer region: slice allocation, commit,
                                element put/pop, recycle) without sessions, streams or channels (one stream, round trips)
          --hog N               start N CPU hog processes (one spinning thread each) for the whole run: the busy-machine
                                case (their CPU is not counted in the CPU columns)
          --out PREFIX          also write PREFIX.csv and PREFIX.png (latency and throughput vs size)
          --region SIZE         shmipc buffer region size (default 256MB, 512MB above 1MB payloads; units as --sizes)
          --burst N             shmipc only: after the warm-up, stream 1 writes N messages before reading their echoes
                                (with a small --region this exhausts shared memory and both sides fall back to the
                                socket), then one more warm-up; the cell measures the steady state after such a burst
        """;

    public IReadOnlyList<int> Sizes { get; private set; } = [64, 512, 1024, 4096, 16384, 65536, 262144, 524288, 1048576, 4194304];

    public IReadOnlyList<int> Streams { get; private set; } = [1, 4];

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(1);

    public long? Iterations { get; private set; }

    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(0.2);

    public PollingMode Mode { get; private set; } = PollingMode.Balanced;

    public bool OnReactor { get; private set; }

    public MemoryMapType MapType { get; private set; } = MemoryMapType.MemFd;

    public bool SingleClass { get; private set; } = true;

    public bool UdsSynchronous { get; private set; }

    public bool Prefault { get; private set; } = true;

    public bool RunShmipc { get; private set; } = true;

    public bool RunUds { get; private set; } = true;

    public bool RunFloor { get; private set; } = true;

    public bool RunSpin { get; private set; } = true;

    public bool RunQueue { get; private set; } = true;

    public bool RowPingPong { get; private set; } = true;

    public bool RowRate { get; private set; } = true;

    public bool RowOneWay { get; private set; } = true;

    public int RateStreams { get; private set; } = 16;

    public IReadOnlyList<int> OneWaySizes { get; private set; } = [64, 4096];

    /// <summary>The shmipc configurations to run (from --modes, else one from --mode and --on-reactor).</summary>
    public IReadOnlyList<ShmipcMode> Modes => _modes ?? [new ShmipcMode(Mode, OnReactor)];

    public string? OutPrefix { get; private set; }

    public int Hogs { get; private set; }

    private IReadOnlyList<ShmipcMode>? _modes;

    /// <summary>Every cell of the run, grouped by payload size in the order they run.</summary>
    public IReadOnlyList<IGrouping<int, CellSpec>> CellsBySize()
    {
        var cells = new List<CellSpec>();
        if (RowPingPong)
        {
            cells.AddRange(Sizes.SelectMany(size => Streams.Select(streams => new CellSpec(CellKind.PingPong, size, streams))));
        }

        if (RowRate)
        {
            cells.Add(new CellSpec(CellKind.Rate, 64, RateStreams));
        }

        if (RowOneWay)
        {
            cells.AddRange(OneWaySizes.Select(size => new CellSpec(CellKind.OneWay, size, 1)));
        }

        return cells.GroupBy(c => c.Size).OrderBy(g => g.Key).ToList();
    }

    public int? Region { get; private set; }

    public int Burst { get; private set; }

    public static PingPongOptions Parse(string[] args)
    {
        var o = new PingPongOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--sizes":
                    o.Sizes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseSize).ToArray();
                    break;
                case "--streams":
                    o.Streams = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--duration":
                    o.Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--iterations":
                    o.Iterations = long.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--warmup":
                    o.Warmup = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--mode":
                    o.Mode = ParseMode(Next());
                    break;
                case "--on-reactor":
                    o.OnReactor = true;
                    break;
                case "--memfd":
                    o.MapType = MemoryMapType.MemFd;
                    break;
                case "--file":
                    o.MapType = MemoryMapType.DevShmFile;
                    break;
                case "--classes":
                    o.SingleClass = Next() switch
                    {
                        "single" => true,
                        "default" => false,
                        var c => throw new ArgumentException($"--classes {c}: use single or default"),
                    };
                    break;
                case "--no-prefault":
                    o.Prefault = false;
                    break;
                case "--uds-api":
                    o.UdsSynchronous = Next() switch
                    {
                        "sync" => true,
                        "async" => false,
                        var a => throw new ArgumentException($"--uds-api {a}: use async or sync"),
                    };
                    break;
                case "--transports":
                    var list = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    o.RunShmipc = list.Contains("shmipc");
                    o.RunUds = list.Contains("uds");
                    o.RunFloor = list.Contains("floor");
                    o.RunSpin = list.Contains("spin");
                    o.RunQueue = list.Contains("queue");
                    break;
                case "--rows":
                    var rows = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    o.RowPingPong = rows.Contains("pingpong");
                    o.RowRate = rows.Contains("rate");
                    o.RowOneWay = rows.Contains("oneway");
                    break;
                case "--rate-streams":
                    o.RateStreams = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--oneway-sizes":
                    o.OneWaySizes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseSize).ToArray();
                    break;
                case "--modes":
                    o._modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ShmipcMode.Parse).Distinct().ToArray();
                    break;
                case "--hog":
                    o.Hogs = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--out":
                    o.OutPrefix = Next();
                    break;
                case "--region":
                    o.Region = ParseSize(Next());
                    break;
                case "--burst":
                    o.Burst = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (o.Sizes.Count == 0 || o.Sizes.Any(s => s < 2 * MessageSet.HeaderSize || s > 64 * 1024 * 1024))
        {
            throw new ArgumentException("--sizes: every size must be between 16 B and 64 MB");
        }

        if (o.Streams.Count == 0 || o.Streams.Any(s => s is < 1 or > 256))
        {
            throw new ArgumentException("--streams: every count must be between 1 and 256");
        }

        if (!o.RunShmipc && !o.RunUds && !o.RunFloor && !o.RunSpin && !o.RunQueue)
        {
            throw new ArgumentException("--transports: name at least one of floor, spin, queue, uds, shmipc");
        }

        if (!o.RowPingPong && !o.RowRate && !o.RowOneWay)
        {
            throw new ArgumentException("--rows: name at least one of pingpong, rate, oneway");
        }

        if (o.RateStreams is < 1 or > 256 || o.OneWaySizes.Any(s => s <= MessageSet.SyncSize || s > 64 * 1024 * 1024))
        {
            throw new ArgumentException("--rate-streams must be 1..256 and every --oneway-sizes size above 16 B and at most 64 MB");
        }

        if (o._modes is { Count: 0 })
        {
            throw new ArgumentException("--modes: name at least one configuration");
        }

        return o;
    }

    public static PollingMode ParseMode(string value) => value.ToLowerInvariant() switch
    {
        "balanced" => PollingMode.Balanced,
        "latency" => PollingMode.Latency,
        "lowcpu" => PollingMode.LowCpu,
        _ => throw new ArgumentException($"--mode {value}: use balanced, latency or lowcpu"),
    };

    public static int ParseSize(string text)
    {
        var t = text.ToUpperInvariant();
        var (number, factor) = t.EndsWith("MB", StringComparison.Ordinal) ? (t[..^2], 1024 * 1024)
            : t.EndsWith("KB", StringComparison.Ordinal) ? (t[..^2], 1024)
            : t.EndsWith('B') ? (t[..^1], 1)
            : (t, 1);
        return checked(int.Parse(number, CultureInfo.InvariantCulture) * factor);
    }

    public static string FormatSize(int size) =>
        size % (1024 * 1024) == 0 ? $"{size / (1024 * 1024)}MB"
        : size % 1024 == 0 ? $"{size / 1024}KB"
        : $"{size}B";
}
