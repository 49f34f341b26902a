using System.Diagnostics;
using System.Threading.Channels;

namespace Shmipc.Demo;

/// <summary>
/// The server child process, seen from the client: started from this same executable with the <c>server</c> verb,
/// ready once it prints READY, stopped by closing its standard input, killed if it does not stop in time.
/// </summary>
// Design: one task pumps the child's stdout into an unbounded channel (the only writer); the client reads it to find
// READY and, after the child exited, the summary. Stderr is forwarded as it comes (event handler on a pool thread).
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Task _pump;

    private ServerProcess(Process process)
    {
        _process = process;
        _pump = PumpAsync();
    }

    public int Id => _process.Id;

    /// <summary>Starts the child and waits for its READY line.</summary>
    public static async Task<ServerProcess> StartAsync(DemoSetup setup, TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        var process = new Process { StartInfo = CreateStartInfo(setup), EnableRaisingEvents = true };
        process.ErrorDataReceived += static (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine("  [server] " + e.Data);
            }
        };

        process.Start();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process);
        try
        {
            await server.WaitForReadyAsync(readyTimeout, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Asks the child to stop (closes its stdin) and waits for it to exit; returns its exit code and what it printed
    /// after READY.
    /// </summary>
    public async Task<(int ExitCode, IReadOnlyList<string> Output)> StopAsync(TimeSpan timeout)
    {
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        await _pump.WaitAsync(cts.Token);
        var output = new List<string>();
        while (_lines.Reader.TryRead(out var line))
        {
            output.Add(line);
        }

        return (_process.ExitCode, output);
    }

    /// <summary>
    /// Makes sure the child is gone: asks it to stop if it still runs, and kills it if it has not exited two seconds
    /// later (a misbehaving server must not outlive the demo).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _process.WaitForExitAsync(cts.Token);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static ProcessStartInfo CreateStartInfo(DemoSetup setup)
    {
        // Environment.ProcessPath is the apphost (Shmipc.Demo) under `dotnet run`, or the dotnet host when started as
        // `dotnet Shmipc.Demo.dll`; in that case the entry dll goes first.
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this process's executable.");
        var info = new ProcessStartInfo(host)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        }

        info.ArgumentList.Add("server");
        info.ArgumentList.Add(setup.ShmipcSocket);
        info.ArgumentList.Add(setup.UnixSocket);
        info.ArgumentList.Add(setup.PollingMode.ToString());
        return info;
    }

    private async Task WaitForReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (line == DemoServer.ReadyLine)
                {
                    return;
                }

                Console.WriteLine("  [server] " + line);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the server process printed no {DemoServer.ReadyLine} line within {timeout.TotalSeconds:0} s.");
        }

        await _process.WaitForExitAsync(cancellationToken);
        throw new InvalidOperationException($"the server process exited with code {_process.ExitCode} before it was ready.");
    }

    private async Task PumpAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                _lines.Writer.TryWrite(line);
            }
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }
}
