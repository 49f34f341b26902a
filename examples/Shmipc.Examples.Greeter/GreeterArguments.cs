using System.Globalization;
using Shmipc.Channels;

namespace Shmipc.Examples.Greeter;

/// <summary>The parsed command line: <c>server|client [--socket PATH] [--memfd|--file] [--count N]</c>.</summary>
internal sealed record GreeterArguments(string Verb, string SocketPath, MemoryMapType? MemoryMapType, int Count)
{
    public const string Usage =
        """
        usage: Shmipc.Examples.Greeter server [--socket PATH] [--memfd|--file]
               Shmipc.Examples.Greeter client [--socket PATH] [--memfd|--file] [--count N]

          --socket PATH  Unix socket (default: ../ipc_test.sock from the working directory, as shmipc-go's example)
          --memfd        share memory by memfd (protocol v3)
          --file         share memory by /dev/shm files (protocol v2; shmipc-go's default and the client's default)
          --count N      client: greet N times on one stream (default 1; shmipc-go's greeter_server answers once)

        The client chooses the memory mode; a server accepts both. On the server, --memfd refuses a v2 (file) client.
        """;

    /// <summary>Parses <paramref name="args"/>; returns null and sets <paramref name="error"/> when they are wrong.</summary>
    public static GreeterArguments? Parse(string[] args, out string? error)
    {
        error = null;
        if (args.Length == 0 || args[0] is not ("server" or "client"))
        {
            error = args.Length == 0 ? "missing verb" : $"unknown verb '{args[0]}'";
            return null;
        }

        var verb = args[0];
        var socket = GreeterWire.DefaultSocketPath;
        MemoryMapType? mode = null;
        var count = 1;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--socket" when i + 1 < args.Length:
                    socket = Path.GetFullPath(args[++i]);
                    break;
                case "--memfd" or "--file" when mode is not null:
                    error = "give at most one of --memfd and --file";
                    return null;
                case "--memfd":
                    mode = Shmipc.Channels.MemoryMapType.MemFd;
                    break;
                case "--file":
                    mode = Shmipc.Channels.MemoryMapType.DevShmFile;
                    break;
                case "--count" when verb == "client" && i + 1 < args.Length:
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1)
                    {
                        error = $"--count needs a positive number, not '{args[i]}'";
                        return null;
                    }

                    break;
                default:
                    error = $"unexpected argument '{args[i]}'";
                    return null;
            }
        }

        return new GreeterArguments(verb, socket, mode, count);
    }
}
