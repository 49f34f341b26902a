using System.Diagnostics;
using System.Text.Json;
using Shmipc.Inspect;

namespace Shmipc.Channels.Tests.Inspect;

/// <summary>One run of shmipc-inspect: its exit code and what it printed.</summary>
internal sealed record InspectRun(int ExitCode, string Output, string Error)
{
    /// <summary>Where the tool's dll is: copied next to the tests by the project reference.</summary>
    public static string ToolDll => Path.Combine(AppContext.BaseDirectory, "Shmipc.Inspect.dll");

    /// <summary>Runs the tool in this process through its entry point.</summary>
    public static InspectRun InProcess(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = InspectCommand.Run(args, output, error, CancellationToken.None);
        return new InspectRun(exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs the tool as its own process (<c>dotnet Shmipc.Inspect.dll args…</c>), bounded by <paramref name="timeout"/>.</summary>
    public static async Task<InspectRun> AsProcessAsync(TimeSpan timeout, params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        var info = new ProcessStartInfo(!string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ToolDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        using var cts = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"shmipc-inspect did not finish within {timeout}");
        }

        return new InspectRun(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The output as JSON documents, one per line (one per pass).</summary>
    public IReadOnlyList<JsonElement> JsonDocuments() =>
        [.. Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    /// <summary>The single pass's regions whose name contains <paramref name="part"/>.</summary>
    public IReadOnlyList<JsonElement> Regions(string part) =>
        [.. JsonDocuments().Single().GetProperty("regions").EnumerateArray().Where(r => r.GetProperty("name").GetString()!.Contains(part, StringComparison.Ordinal))];

    public override string ToString() => $"exit {ExitCode}\n{Output}\nstderr:\n{Error}";
}
