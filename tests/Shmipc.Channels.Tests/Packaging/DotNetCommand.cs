using System.Diagnostics;
using System.Text;

namespace Shmipc.Channels.Tests.Packaging;

/// <summary>
/// Runs the <c>dotnet</c> host as a child process with a bounded time, captures its output, and kills the whole
/// process tree when the time is up or the test is done with it.
/// </summary>
// Design: output lines arrive on thread-pool threads (OutputDataReceived/ErrorDataReceived) and go into _output under
// _lock; a line equal to the awaited marker completes _marker. Dispose kills the tree if it still runs.
internal sealed class DotNetCommand : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _marker = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _markerLine;

    private DotNetCommand(string workingDirectory, IEnumerable<string> arguments, string? markerLine)
    {
        _markerLine = markerLine;
        var info = new ProcessStartInfo(Host)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test host may carry MSBuild settings of the build that started it; a child build must not inherit them.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything the process printed so far (stdout and stderr interleaved).</summary>
    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The muxer that runs the tests (<c>dotnet test</c> sets DOTNET_HOST_PATH), else <c>dotnet</c> on PATH.</summary>
    private static string Host
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
        }
    }

    /// <summary>Starts <c>dotnet</c> with <paramref name="arguments"/>.</summary>
    public static DotNetCommand Start(string workingDirectory, IEnumerable<string> arguments, string? markerLine = null) =>
        new(workingDirectory, arguments, markerLine);

    /// <summary>Runs <c>dotnet</c> to the end and fails the test with its output unless it exits 0 in time.</summary>
    public static async Task<string> RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        using var command = Start(workingDirectory, arguments);
        var exitCode = await command.WaitForExitAsync(timeout);
        Xunit.Assert.True(exitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {exitCode}:\n{command.Output}");
        return command.Output;
    }

    /// <summary>Waits until the process printed the marker line; false when it exited or the time ran out first.</summary>
    public async Task<bool> WaitForMarkerAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_marker.Task, exited, Task.Delay(timeout));
        return first == _marker.Task;
    }

    /// <summary>Waits for the exit; returns the exit code, or -1 after killing the tree when the time ran out.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            lock (_lock)
            {
                _output.AppendLine($"[killed after {timeout.TotalSeconds} s]");
            }

            return -1;
        }

        // The parameterless wait also drains the redirected output.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Kill()
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
            // Already gone.
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _output.AppendLine(line);
        }

        if (_markerLine is not null && line == _markerLine)
        {
            _marker.TrySetResult();
        }
    }
}
