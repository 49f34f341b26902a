using System.Diagnostics;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// A <c>pingpong-server</c> child: this executable started again with the server verb. The harness waits for its
/// READY line; stopping closes its stdin (it disposes its listener and prints STATS), then kills it if it is still
/// running after a bounded wait, so no child outlives the harness.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private bool _stopped;

    private ServerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        Id = process.Id;
    }

    public string Name { get; }

    public int Id { get; }

    /// <summary>The STATS line the child printed when it stopped (null before <see cref="Stop"/>).</summary>
    public string? Stats { get; private set; }

    /// <summary>The child's exit code after <see cref="Stop"/> (null if it had to be killed).</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Starts this executable with <paramref name="verb"/> and <paramref name="serverArgs"/>; waits for its READY line.</summary>
    public static async Task<ServerProcess> StartAsync(string name, IEnumerable<string> serverArgs, TimeSpan readyTimeout, string verb = "pingpong-server")
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this executable's path");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
        {
            // Started as "dotnet Shmipc.Channels.Benchmarks.dll": start the child the same way.
            psi.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        }

        psi.ArgumentList.Add(verb);
        foreach (var arg in serverArgs)
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var server = new ServerProcess(name, process);
        try
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(readyTimeout).ConfigureAwait(false);
            if (line != "READY")
            {
                throw new InvalidOperationException($"{name} server (pid {process.Id}) did not start: first line '{line}'");
            }

            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Closes stdin, collects the STATS line and the exit code; kills the child if it does not exit in time.</summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        try
        {
            _process.StandardInput.Close();
            var rest = _process.StandardOutput.ReadToEndAsync();
            if (rest.Wait(ExitWait))
            {
                Stats = rest.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .LastOrDefault(l => l.StartsWith("STATS", StringComparison.Ordinal));
            }

            if (_process.WaitForExit(ExitWait))
            {
                ExitCode = _process.ExitCode;
                return;
            }
        }
        catch (IOException)
        {
            // The pipe broke: the child is gone or going; make sure below.
        }

        Kill();
    }

    /// <summary>Bytes the child has allocated so far, all threads (asks it with an ALLOC line on its stdin); null if it does not answer.</summary>
    public long? AllocatedBytes()
    {
        try
        {
            _process.StandardInput.WriteLine("ALLOC");
            _process.StandardInput.Flush();
            var line = _process.StandardOutput.ReadLineAsync().WaitAsync(ExitWait).GetAwaiter().GetResult();
            return line is not null && line.StartsWith("ALLOC ", StringComparison.Ordinal)
                ? long.Parse(line.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture)
                : null;
        }
        catch (Exception e) when (e is IOException or TimeoutException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>User + system CPU time the child has used so far (zero once it has exited).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(ExitWait);
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
