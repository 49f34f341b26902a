using System.Globalization;

namespace Shmipc.Channels.Benchmarks.Soak;

/// <summary>Options of the <c>soak</c> verb (see <see cref="Usage"/>).</summary>
internal sealed class SoakOptions
{
    public const string Usage = """
        soak [options]          N sessions × M streams against an echo server child for a given time; random sizes,
                                every byte of every echo compared with what was sent; exits 1 on loss, corruption,
                                an error, or growth of memory, fds or slices in use
          --sessions N          client sessions (default 4)
          --streams M           streams per session, each a ping-pong loop (default 4)
          --duration SECONDS    how long to run (default 60)
          --min-size SIZE       smallest message (default 1B; units B, KB, MB = 1024-based)
          --max-size SIZE       largest message (default 2MB); sizes are log-uniform in between
          --report SECONDS      interval of the progress lines (default: duration / 12, at least 1)
          --region SIZE         buffer region of each client session (default 64MB)
          --memfd | --file      shared memory as memfd (default) or /dev/shm files
          --seed N              seed of the sizes and contents (default 1)
          --stall SECONDS       a round trip taking longer counts as a lost message (default 30)
        """;

    public int Sessions { get; private set; } = 4;

    public int Streams { get; private set; } = 4;

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(60);

    public int MinSize { get; private set; } = 1;

    public int MaxSize { get; private set; } = 2 * 1024 * 1024;

    public TimeSpan? Report { get; private set; }

    public long Region { get; private set; } = 64L * 1024 * 1024;

    public MemoryMapType MapType { get; private set; } = MemoryMapType.MemFd;

    public int Seed { get; private set; } = 1;

    public TimeSpan Stall { get; private set; } = TimeSpan.FromSeconds(30);

    /// <summary>The progress interval: <c>--report</c>, or a twelfth of the duration (at least a second).</summary>
    public TimeSpan ReportInterval => Report ?? TimeSpan.FromSeconds(Math.Max(1, Duration.TotalSeconds / 12));

    public static SoakOptions Parse(string[] args)
    {
        var options = new SoakOptions();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sessions":
                    options.Sessions = Positive(Next(args, ref i), "--sessions");
                    break;
                case "--streams":
                    options.Streams = Positive(Next(args, ref i), "--streams");
                    break;
                case "--duration":
                    options.Duration = TimeSpan.FromSeconds(double.Parse(Next(args, ref i), CultureInfo.InvariantCulture));
                    break;
                case "--min-size":
                    options.MinSize = (int)ParseSize(Next(args, ref i));
                    break;
                case "--max-size":
                    options.MaxSize = (int)ParseSize(Next(args, ref i));
                    break;
                case "--report":
                    options.Report = TimeSpan.FromSeconds(double.Parse(Next(args, ref i), CultureInfo.InvariantCulture));
                    break;
                case "--region":
                    options.Region = ParseSize(Next(args, ref i));
                    break;
                case "--memfd":
                    options.MapType = MemoryMapType.MemFd;
                    break;
                case "--file":
                    options.MapType = MemoryMapType.DevShmFile;
                    break;
                case "--seed":
                    options.Seed = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--stall":
                    options.Stall = TimeSpan.FromSeconds(double.Parse(Next(args, ref i), CultureInfo.InvariantCulture));
                    break;
                default:
                    throw new ArgumentException($"soak: unknown option {args[i]}\n{Usage}");
            }
        }

        if (options.MinSize < 1 || options.MaxSize < options.MinSize)
        {
            throw new ArgumentException("soak: need 1 <= --min-size <= --max-size");
        }

        return options;
    }

    /// <summary>A size like 64B, 4KB or 2MB (1024-based), or plain bytes.</summary>
    public static long ParseSize(string text)
    {
        var units = new[] { ("MB", 1024L * 1024), ("KB", 1024L), ("B", 1L) };
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return long.Parse(text[..^suffix.Length], CultureInfo.InvariantCulture) * factor;
            }
        }

        return long.Parse(text, CultureInfo.InvariantCulture);
    }

    private static int Positive(string text, string name)
    {
        var value = int.Parse(text, CultureInfo.InvariantCulture);
        return value > 0 ? value : throw new ArgumentException($"soak: {name} must be positive");
    }

    private static string Next(string[] args, ref int i) =>
        i + 1 < args.Length ? args[++i] : throw new ArgumentException($"soak: option {args[i]} needs a value");
}
