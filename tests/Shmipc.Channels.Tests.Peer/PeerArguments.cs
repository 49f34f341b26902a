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

    /// <summary><c>--mode echo|sink|hold|flood|ignore</c> (serve): echo every message back, only count and drop it, keep it
    /// (<see cref="StreamHold"/>), write without end (<see cref="StreamFlood"/>), or accept streams and never read them
    /// (a stalled consumer). <c>connect</c> knows echo (the default) and hold.</summary>
    public string Mode { get; private set; } = "echo";

    /// <summary>True for <c>--mode echo</c>.</summary>
    public bool Echo => Mode == "echo";

    /// <summary><c>--budget-messages N</c>: the session's <see cref="ShmipcOptions.ReceiveBudgetMessages"/>.</summary>
    public int? BudgetMessages { get; private set; }

    /// <summary><c>--budget-bytes N</c>: the session's <see cref="ShmipcOptions.ReceiveBudgetBytes"/>.</summary>
    public long? BudgetBytes { get; private set; }

    /// <summary><c>--queue N</c>: the client's IO queue capacity.</summary>
    public int? QueueCapacity { get; private set; }

    /// <summary><c>--size N</c>: message size of the writer verbs. Default 256.</summary>
    public int Size { get; private set; } = 256;

    /// <summary><c>--count N</c>: messages the wait-writer verb writes. Default 10000.</summary>
    public int Count { get; private set; } = 10000;

    /// <summary><c>--seconds S</c>: how long the flood verb writes. Default 8.</summary>
    public double Seconds { get; private set; } = 8;

    /// <summary><c>--write-timeout-ms N</c>: the client's <see cref="ShmipcOptions.WriteTimeout"/>.</summary>
    public int? WriteTimeoutMs { get; private set; }

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

    /// <summary><c>--queue-path P</c> (announce): the queue file to name instead of creating one.</summary>
    public string? QueuePath { get; private set; }

    /// <summary><c>--buffer-path P</c> (announce): the buffer file to name instead of creating one.</summary>
    public string? BufferPath { get; private set; }

    /// <summary><c>--owner UID</c> (announce): chown the created files to this user.</summary>
    public uint? Owner { get; private set; }

    /// <summary><c>--keep</c> (announce): leave the created files behind on exit, like a client that died.</summary>
    public bool Keep { get; private set; }

    /// <summary>
    /// <c>--tcp</c> (serve, connect): the socket argument is a TCP address (<c>127.0.0.1:0</c> to serve on a free port);
    /// serve prints the bound address in its READY line. Clients need <c>--file</c> with it.
    /// </summary>
    public bool Tcp { get; private set; }

    /// <summary><c>--allow-uid UID</c>: a user the server (serve) or client (connect) accepts besides its own and root.</summary>
    public uint? AllowUid { get; private set; }

    /// <summary><c>--take-over</c> (hot-serve): bind with <see cref="ShmipcServerOptions.TakeOverSocketPath"/>.</summary>
    public bool TakeOver { get; private set; }

    public static PeerArguments Parse(string[] args)
    {
        if (args.Length < 2)
        {
            throw new ArgumentException("usage: <serve|connect|hostile-garbage|hostile-offsets|crash-midway|announce|stall|flood|wait-writer|shrink|hostile-truncate-server|sigbus-unguarded|handshake-hang> <socketPath or -> [options]");
        }

        var parsed = new PeerArguments(args[0], args[1]);
        for (var i = 2; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mode":
                    parsed.Mode = Next(args, ref i) switch
                    {
                        var mode when mode is "echo" or "sink" or "hold" or "flood" or "ignore" => mode,
                        var other => throw new ArgumentException($"unknown mode '{other}' (echo, sink, hold, flood or ignore)"),
                    };
                    break;
                case "--budget-messages":
                    parsed.BudgetMessages = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--budget-bytes":
                    parsed.BudgetBytes = long.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--queue":
                    parsed.QueueCapacity = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--size":
                    parsed.Size = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--count":
                    parsed.Count = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--seconds":
                    parsed.Seconds = double.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--write-timeout-ms":
                    parsed.WriteTimeoutMs = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
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
                case "--queue-path":
                    parsed.QueuePath = Next(args, ref i);
                    break;
                case "--buffer-path":
                    parsed.BufferPath = Next(args, ref i);
                    break;
                case "--owner":
                    parsed.Owner = uint.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--keep":
                    parsed.Keep = true;
                    break;
                case "--tcp":
                    parsed.Tcp = true;
                    break;
                case "--allow-uid":
                    parsed.AllowUid = uint.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                case "--take-over":
                    parsed.TakeOver = true;
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
            AllowedServerUserIds = AllowUid is { } uid ? [uid] : [],
        };
        if (BufferCapacity is { } capacity)
        {
            options.BufferCapacity = capacity;
        }

        if (SliceSize is { } slice)
        {
            options.SizeClasses = [new BufferSizeClass(slice, 100)];
        }

        if (QueueCapacity is { } queue)
        {
            options.QueueCapacity = queue;
        }

        Apply(options);
        return options;
    }

    /// <summary>Server options from the arguments; handshakes get 5 s because the machine may be busy.</summary>
    public ShmipcServerOptions CreateServerOptions()
    {
        var options = new ShmipcServerOptions
        {
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            AllowedClientUserIds = AllowUid is { } uid ? [uid] : [],
            TakeOverSocketPath = TakeOver,
            HotRestartTimeout = TimeSpan.FromSeconds(10),
        };
        Apply(options);
        return options;
    }

    private void Apply(ShmipcOptions options)
    {
        if (BudgetMessages is { } messages)
        {
            options.ReceiveBudgetMessages = messages;
        }

        if (BudgetBytes is { } bytes)
        {
            options.ReceiveBudgetBytes = bytes;
        }

        if (WriteTimeoutMs is { } ms)
        {
            options.WriteTimeout = TimeSpan.FromMilliseconds(ms);
        }
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
