using System.Runtime.InteropServices;
using System.Threading.Channels;
using Shmipc.Channels;

namespace Shmipc.Demo;

/// <summary>
/// <c>dotnet run -c Release --project examples/Shmipc.Demo [-- --polling balanced|latency|lowcpu]</c> runs the client,
/// which starts this same program as <c>server SHMIPC_SOCKET UNIX_SOCKET POLLING_MODE</c> in a child process.
/// </summary>
internal static class Program
{
    /// <summary>A bound on the whole run, so a stuck peer cannot hang the demo (it normally takes a few seconds).</summary>
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> Main(string[] args)
    {
        if (args is ["server", var shmipcSocket, var unixSocket, var mode] && Enum.TryParse<PollingMode>(mode, out var serverMode))
        {
            return await DemoServer.RunAsync(shmipcSocket, unixSocket, serverMode);
        }

        var pollingMode = DemoSetup.DefaultPollingMode;
        if (args is not ([] or ["--polling", _]) ||
            (args is [_, var name] && !(Enum.TryParse(name, ignoreCase: true, out pollingMode) && Enum.IsDefined(pollingMode))))
        {
            await Console.Error.WriteLineAsync("usage: Shmipc.Demo [--polling balanced|latency|lowcpu]   (starts its own server process)");
            return 2;
        }

        using var cts = new CancellationTokenSource(RunTimeout);
        var signalled = false;

        // Ctrl+C and SIGTERM unwind through the finally blocks, which stop (or kill) the server and remove the socket files.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            return await DemoClient.RunAsync(pollingMode, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync(signalled ? "demo: interrupted" : $"demo: stopped after {RunTimeout.TotalSeconds:0} s (time limit)");
            return 1;
        }
        catch (Exception e) when (e is ShmipcException or ChannelClosedException or InvalidDataException or TimeoutException or InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync($"demo: failed: {e}");
            return 1;
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            signalled = true;
            cts.Cancel();
        }
    }
}
