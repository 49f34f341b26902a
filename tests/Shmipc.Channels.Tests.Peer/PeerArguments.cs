using System.Globalization;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>The peer's command line: <c>&lt;verb&gt; &lt;socketPath&gt; [options]</c>.</summary>
internal sealed class PeerArguments
{
    private PeerArguments(string verb, string socketPath)
    {
        Verb = verb;
        SocketPath = socketPath;
    }

    public string Verb { get; }

    public string SocketPath { get; }

    /// <summary><c>--mode echo|sink</c> (serve): echo every message back, or only count and drop it.</summary>
    public bool Echo { get; private set; } = true;

    /// <summary><c>--memfd</c> (default) or <c>--file</c> for the client verbs.</summary>
    public MemoryMapType MemoryMapType { get; private set; } = MemoryMapType.MemFd;

    /// <summary><c>--prefix P</c>: the shared-memory name prefix, unique per test so leftovers can be found.</summary>
    public string Prefix { get; private set; } = $"/dev/shm/shmipc_peer_{Guid.NewGuid():N}";

    /// <summary><c>--buffer BYTES</c>: buffer region size of a client.</summary>
    public long? BufferCapacity { get; private set; }

    /// <summary><c>--slice BYTES</c>: a single size class of this slice size (for fallback tests).</summary>
    public int? SliceSize { get; private set; }

    /// <summary><c>--kind K</c>: which fault a hostile verb injects.</summary>
    public string Kind { get; private set; } = "";

    /// <summary><c>--streams N</c>: streams the crash verb writes on.</summary>
    public int Streams { get; private set; } = 2;

    public static PeerArguments Parse(string[] args)
    {
        if (args.Length < 2)
        {
            throw new ArgumentException("usage: <serve|connect|hostile-garbage|hostile-offsets|crash-midway|shrink|hostile-truncate-server|sigbus-unguarded> <socketPath or -> [options]");
        }

        var parsed = new PeerArguments(args[0], args[1]);
        for (var i = 2; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mode":
                    parsed.Echo = Next(args, ref i) switch
                    {
                        "echo" => true,
                        "sink" => false,
                        var other => throw new ArgumentException($"unknown mode '{other}' (echo or sink)"),
                    };
                    break;
                case "--memfd":
                    parsed.MemoryMapType = MemoryMapType.MemFd;
                    break;
                case "--file":
                    parsed.MemoryMapType = MemoryMapType.DevShmFile;
                    break;
                case "--prefix":
                    parsed.Prefix = Next(args, ref i);
                    break;
                case "--buffer":
                    parsed.BufferCapacity = long.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--slice":
                    parsed.SliceSize = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--kind":
                    parsed.Kind = Next(args, ref i);
                    break;
                case "--streams":
                    parsed.Streams = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }

        return parsed;
    }

    /// <summary>Client options from the arguments; handshakes get 5 s because the machine may be busy.</summary>
    public ShmipcClientOptions CreateClientOptions()
    {
        var options = new ShmipcClientOptions
        {
            MemoryMapType = MemoryMapType,
            PathPrefix = Prefix,
            HandshakeTimeout = TimeSpan.FromSeconds(5),
        };
        if (BufferCapacity is { } capacity)
        {
            options.BufferCapacity = capacity;
        }

        if (SliceSize is { } slice)
        {
            options.SizeClasses = [new BufferSizeClass(slice, 100)];
        }

        return options;
    }

    private static string Next(string[] args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new ArgumentException($"option '{args[i]}' needs a value");
        }

        return args[++i];
    }
}
