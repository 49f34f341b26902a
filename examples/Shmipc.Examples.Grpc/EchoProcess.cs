using System.Diagnostics;

namespace Shmipc.Examples.Grpc;

/// <summary>The echo server as a child process (this same program with the <c>server</c> verb).</summary>
public sealed class EchoProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EchoProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _ready.TrySetException(new InvalidOperationException("the server process ended before it was ready"));
            }
            else if (e.Data.StartsWith("READY ", StringComparison.Ordinal))
            {
                _ready.TrySetResult(e.Data);
            }
            else
            {
                Console.WriteLine($"  [server] {e.Data}");
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"  [server] {e.Data}");
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>The TCP address the server printed, when it listens on TCP too.</summary>
    public string? TcpAddress { get; private set; }

    /// <summary>Starts the server: shmipc on <paramref name="shmipcPath"/>, optionally a plain Unix socket and a TCP port (0: any).</summary>
    public static EchoProcess StartServer(string shmipcPath, string? udsPath = null, int tcpPort = -1)
    {
        var self = typeof(EchoProcess).Assembly.Location;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(self);
        info.ArgumentList.Add("server");
        info.ArgumentList.Add(shmipcPath);
        info.ArgumentList.Add(udsPath ?? "-");
        info.ArgumentList.Add(tcpPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new EchoProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start the server process"));
    }

    public async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var line = await _ready.Task.WaitAsync(cancellationToken);
        var parts = line.Split(' ');
        TcpAddress = parts.Length > 2 && parts[2] != "-" ? parts[2] : null;
    }

    /// <summary>Closes the server's stdin (its signal to stop gracefully) and waits for it to exit.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
