using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Shmipc.Examples.HotRestart;

/// <summary>A server generation running as a child process of this example, and the client end of its admin socket.</summary>
internal sealed class ServerChild
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _adminPath;

    private ServerChild(Process process, string adminPath)
    {
        _process = process;
        _adminPath = adminPath;
    }

    public int ProcessId => _process.Id;

    public static async Task<ServerChild> StartAsync(string socketPath, string directory, int generation, bool takeOver)
    {
        var adminPath = Path.Combine(directory, $"admin-{generation}.sock");

        // Environment.ProcessPath is the apphost under `dotnet run`, or the dotnet host for `dotnet X.dll` (entry dll first).
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this process's executable.");
        var info = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ServerChild).Assembly.Location);
        }

        info.ArgumentList.Add("server");
        info.ArgumentList.Add(socketPath);
        info.ArgumentList.Add(adminPath);
        if (takeOver)
        {
            info.ArgumentList.Add("--take-over");
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("the server process did not start.");
        using var cts = new CancellationTokenSource(Timeout);
        var ready = await process.StandardOutput.ReadLineAsync(cts.Token);
        if (ready != "READY")
        {
            process.Kill();
            throw new InvalidOperationException($"server generation {generation} did not start: {ready}");
        }

        return new ServerChild(process, adminPath);
    }

    /// <summary>Triggers the hot restart; returns when the old server has drained (it exits right after).</summary>
    public async Task<(long Served, long AckMs)> HotRestartAsync(ulong epoch)
    {
        var lines = await CommandAsync(string.Create(CultureInfo.InvariantCulture, $"hot-restart {epoch}"), replies: 2);
        if (lines[0].StartsWith("failed", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"hot restart {epoch}: {lines[0]}");
        }

        return (long.Parse(lines[1].Split(' ')[1], CultureInfo.InvariantCulture), long.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture));
    }

    public async Task<long> ServedAsync() => long.Parse((await CommandAsync("served", replies: 1))[0].Split(' ')[1], CultureInfo.InvariantCulture);

    public async Task StopAsync()
    {
        await CommandAsync("stop", replies: 0);
        await WaitForExitAsync();
    }

    public async Task WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    private async Task<string[]> CommandAsync(string command, int replies)
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_adminPath), cts.Token);
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await using var writer = new StreamWriter(stream) { AutoFlush = true };
        await writer.WriteLineAsync(command.AsMemory(), cts.Token);
        var lines = new string[replies];
        for (var i = 0; i < replies; i++)
        {
            lines[i] = await reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException($"the server closed the admin socket after '{command}'.");
        }

        return lines;
    }
}
