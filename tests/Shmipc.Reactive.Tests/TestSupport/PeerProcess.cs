using System.Diagnostics;
using Xunit.Abstractions;

namespace Shmipc.Reactive.Tests.TestSupport;

/// <summary>
/// Starts the peer exe (built next to the tests) with a scenario verb, forwards its output to the test log, and kills
/// it on dispose if it is still running.
/// </summary>
public sealed class PeerProcess : IDisposable
{
    private readonly Process _process;

    private PeerProcess(Process process) => _process = process;

    public static PeerProcess Start(ITestOutputHelper output, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Shmipc.Reactive.Tests.Peer.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("The peer exe was not built next to the tests.", dll);
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(host) || !File.Exists(host))
        {
            host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        }

        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Log(output, "peer: ", e.Data);
        process.ErrorDataReceived += (_, e) => Log(output, "peer! ", e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new PeerProcess(process);
    }

    /// <summary>Waits for the peer to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        return _process.ExitCode;
    }

    /// <summary>Kills the peer now (SIGKILL): no goodbye on any socket, its shared memory left as it was.</summary>
    public void KillNow() => _process.Kill();

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private static void Log(ITestOutputHelper output, string prefix, string? line)
    {
        if (line is null)
        {
            return;
        }

        try
        {
            output.WriteLine(prefix + line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished.
        }
    }
}
