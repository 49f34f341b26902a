using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// One running <c>Shmipc.Channels.Tests.Peer</c> process: its stdout lines are the readiness and report protocol
/// (waited on with bounded timeouts, never slept on), stdin carries commands, and both streams are forwarded to the
/// current test's output. Disposing closes stdin (the peer's cue to shut down cleanly), waits briefly, and then kills
/// the whole process tree whatever happened.
/// </summary>
// Design: _lock guards _lines, _errors, _waiters and _stdoutClosed; _stdinLock keeps command lines whole. Lines arrive on the Process event threads; a waiter is
// either satisfied from _lines under the lock or registered under the same lock, so no line is missed between the
// scan and the registration. Waiters are completed outside the lock.
public sealed class PeerProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<PeerProcess, byte> s_live = new();
    private static readonly TimeSpan PoliteExit = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly string _name;
    private readonly Lock _lock = new();
    private readonly Lock _stdinLock = new();
    private readonly List<string> _lines = [];
    private readonly List<string> _errors = [];
    private readonly List<Waiter> _waiters = [];
    private volatile ITestOutputHelper? _output;
    private bool _stdoutClosed;
    private int _disposed;

    static PeerProcess()
    {
        // Last line of defence against stray peers if a fixture never gets disposed (e.g. the test host is stopped).
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var peer in s_live.Keys)
            {
                peer.KillTree();
            }
        };
    }

    private PeerProcess(string name, Process process, ITestOutputHelper? output)
    {
        _name = name;
        _process = process;
        _output = output;
    }

    /// <summary>Where the peer's dll is: copied next to the tests by the project reference.</summary>
    public static string PeerDll => Path.Combine(AppContext.BaseDirectory, "Shmipc.Channels.Tests.Peer.dll");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Number of stdout lines so far; pass it to <see cref="WaitForLineAsync"/> to ignore older lines.</summary>
    public int LineCount
    {
        get
        {
            lock (_lock)
            {
                return _lines.Count;
            }
        }
    }

    /// <summary>A snapshot of the stdout lines so far.</summary>
    public IReadOnlyList<string> OutputLines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>A snapshot of the stderr lines so far.</summary>
    public IReadOnlyList<string> ErrorLines
    {
        get
        {
            lock (_lock)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Forward output to this test (null: keep it only in memory).</summary>
    public ITestOutputHelper? Output
    {
        get => _output;
        set => _output = value;
    }

    /// <summary>Starts <c>dotnet Shmipc.Channels.Tests.Peer.dll args…</c>.</summary>
    public static PeerProcess Start(string name, ITestOutputHelper? output, params string[] args) => Start(name, output, asUser: null, args);

    /// <summary>
    /// Starts the peer, as user (and group) <paramref name="asUser"/> with no supplementary groups when given (through
    /// <c>setpriv</c>; the test process must be root, see <see cref="TestSupport.OtherUser"/>).
    /// </summary>
    public static PeerProcess Start(string name, ITestOutputHelper? output, uint? asUser, params string[] args)
    {
        if (!File.Exists(PeerDll))
        {
            throw new FileNotFoundException($"The peer executable is missing next to the tests ({PeerDll}); the test project must reference Shmipc.Channels.Tests.Peer.", PeerDll);
        }

        var info = new ProcessStartInfo(asUser is null ? DotNetHost : TestSupport.OtherUser.SetPriv)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUser is { } uid)
        {
            // setpriv execs dotnet in place: the pid, and so killing the tree, stay the same.
            info.ArgumentList.Add($"--reuid={uid}");
            info.ArgumentList.Add($"--regid={uid}");
            info.ArgumentList.Add("--clear-groups");
            info.ArgumentList.Add(DotNetHost);
        }

        info.ArgumentList.Add(PeerDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var peer = new PeerProcess(name, process, output);
        process.OutputDataReceived += (_, e) => peer.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => peer.OnStderr(e.Data);
        process.Start();
        s_live[peer] = 0;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        peer.Log($"started pid {process.Id}{(asUser is null ? "" : $" as uid {asUser}")}: {string.Join(' ', args)}");
        return peer;
    }

    /// <summary>Waits for a stdout line (from line <paramref name="fromLine"/> on) that satisfies <paramref name="match"/>.</summary>
    /// <exception cref="TimeoutException">No such line within <paramref name="timeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The peer's stdout ended (it exited) without such a line.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, int fromLine = 0)
    {
        Waiter waiter;
        lock (_lock)
        {
            for (var i = fromLine; i < _lines.Count; i++)
            {
                if (match(_lines[i]))
                {
                    return _lines[i];
                }
            }

            if (_stdoutClosed)
            {
                throw new InvalidOperationException($"{Describe()} exited without the expected line.");
            }

            waiter = new Waiter(match);
            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Describe()} printed no expected line within {timeout.TotalSeconds:0.#} s.");
        }
        finally
        {
            lock (_lock)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Waits for a line starting with <paramref name="prefix"/>.</summary>
    public Task<string> WaitForLineAsync(string prefix, TimeSpan timeout, int fromLine = 0) =>
        WaitForLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), timeout, fromLine);

    /// <summary>Sends a command line and waits for the reply line starting with <paramref name="replyPrefix"/>.</summary>
    public Task<string> CommandAsync(string command, string replyPrefix, TimeSpan timeout)
    {
        var from = LineCount;
        Send(command);
        return WaitForLineAsync(replyPrefix, timeout, from);
    }

    /// <summary>Writes one line to the peer's stdin.</summary>
    public void Send(string line)
    {
        Log($"<< {line}");
        lock (_stdinLock)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }
    }

    /// <summary>Closes the peer's stdin: a peer waiting for a command ends (as at <see cref="DisposeAsync"/>, without the wait).</summary>
    public void CloseInput()
    {
        Log("stdin closed");
        lock (_stdinLock)
        {
            _process.StandardInput.Close();
        }
    }

    /// <summary>
    /// SIGKILL, now: one kill(2) of the peer. Returns when the signal went out and when the kernel had the process
    /// dead (<see cref="PeerKill"/>), the moments a detection bound is measured from.
    /// </summary>
    /// <remarks>
    /// Not <see cref="Process.Kill(bool)"/> with the whole tree: that first stops the process (SIGSTOP), then reads every
    /// process in /proc to find its children, and only then sends SIGKILL. Measured on a loaded 2-core machine: 83 ms
    /// median, 150 ms at worst, against 0.05 ms for the kill(2) alone; all that time the peer sat stopped with its
    /// socket open while a test's detection clock ran. A peer has no children (dotnet runs it in-process, setpriv execs
    /// in place); <see cref="DisposeAsync"/> still kills the whole tree.
    /// </remarks>
    public PeerKill KillNow()
    {
        var died = TestSupport.ProcessDeath.Watch(_process.Id);
        Log("SIGKILL");
        var signalledAt = Stopwatch.GetTimestamp();
        _process.Kill();
        _ = died.ContinueWith(
            t => Log($"dead {Stopwatch.GetElapsedTime(signalledAt, t.Result).TotalMilliseconds:0.0} ms after the SIGKILL"),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return new PeerKill(signalledAt, died);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    lock (_stdinLock)
                    {
                        _process.StandardInput.Close();
                    }

                    await WaitForExitAsync(PoliteExit);
                    Log($"exited with code {_process.ExitCode}");
                }
                catch (Exception e) when (e is OperationCanceledException or IOException)
                {
                    Log($"did not exit within {PoliteExit.TotalSeconds:0} s of stdin closing; killing it");
                }
            }
        }
        finally
        {
            KillTree();
            s_live.TryRemove(this, out _);
            _process.Dispose();
            _output = null;
        }
    }

    private static string DotNetHost
    {
        get
        {
            // `dotnet test` and MSBuild set DOTNET_HOST_PATH; the test host itself usually runs under the same muxer.
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host))
            {
                return host;
            }

            var self = Environment.ProcessPath;
            return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        }
    }

    private void KillTree()
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
    }

    private void OnStdout(string? line)
    {
        List<Waiter> done = [];
        lock (_lock)
        {
            if (line is null)
            {
                _stdoutClosed = true;
                done.AddRange(_waiters);
            }
            else
            {
                _lines.Add(line);
                done.AddRange(_waiters.Where(w => w.Match(line)));
            }

            foreach (var w in done)
            {
                _waiters.Remove(w);
            }
        }

        if (line is null)
        {
            foreach (var w in done)
            {
                w.Done.TrySetException(new InvalidOperationException($"{Describe()} exited without the expected line."));
            }

            return;
        }

        Log(line);
        foreach (var w in done)
        {
            w.Done.TrySetResult(line);
        }
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _errors.Add(line);
        }

        Log($"stderr: {line}");
    }

    private string Describe()
    {
        lock (_lock)
        {
            var tail = string.Join(Environment.NewLine, _lines.TakeLast(10).Concat(_errors.TakeLast(20).Select(e => "stderr: " + e)));
            return $"peer '{_name}' (pid {_process.Id}{(_process.HasExited ? $", exit code {_process.ExitCode}" : "")}); last output:{Environment.NewLine}{tail}";
        }
    }

    private void Log(string line)
    {
        try
        {
            _output?.WriteLine($"[{_name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test this peer reported to has finished.
        }
    }

    private sealed class Waiter(Func<string, bool> match)
    {
        public Func<string, bool> Match { get; } = match;

        public TaskCompletionSource<string> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
