using Shmipc.Channels;

namespace Shmipc.Demo;

/// <summary>
/// What both processes agree on: a socket for shmipc, one for the plain Unix-socket baseline, and the polling mode
/// of their shmipc sessions.
/// </summary>
internal sealed record DemoSetup(string ShmipcSocket, string UnixSocket, PollingMode PollingMode)
{
    /// <summary>Prefix of the client's shared-memory names; only memfd is used, so nothing should appear under it.</summary>
    public const string SharedMemoryPrefix = "/dev/shm/shmipc_demo";

    /// <summary>Paths unique to this demo run (the client's process id), in the temp folder.</summary>
    public static DemoSetup ForRun(int clientProcessId, PollingMode pollingMode)
    {
        var stem = Path.Combine(Path.GetTempPath(), $"shmipc-demo-{clientProcessId}");
        return new DemoSetup(stem + ".sock", stem + "-uds.sock", pollingMode);
    }

    /// <summary>The library default: spin briefly after traffic (yielding the core), then park in epoll.</summary>
    public static PollingMode DefaultPollingMode => PollingMode.Balanced;

    /// <summary>The socket of the Rx step, next to the shmipc socket.</summary>
    public string RxSocket => RxSocketFor(ShmipcSocket);

    /// <summary>Where the server binds the Rx step's listener for a given shmipc socket.</summary>
    public static string RxSocketFor(string shmipcSocket) => Path.ChangeExtension(shmipcSocket, null) + "-rx.sock";

    /// <summary>Socket files that still exist (the server removes them when it stops).</summary>
    public IEnumerable<string> Leftovers() => new[] { ShmipcSocket, UnixSocket, RxSocket }.Where(File.Exists);

    public void DeleteLeftovers()
    {
        foreach (var path in Leftovers())
        {
            File.Delete(path);
        }
    }

    /// <summary>Shared-memory files this run left in /dev/shm (none with memfd).</summary>
    public static string[] SharedMemoryLeftovers() =>
        Directory.Exists("/dev/shm") ? Directory.GetFiles("/dev/shm", Path.GetFileName(SharedMemoryPrefix) + "*") : [];
}
