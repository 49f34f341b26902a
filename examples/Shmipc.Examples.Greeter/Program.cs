using System.Runtime.InteropServices;
using System.Threading.Channels;
using Shmipc.Channels;

namespace Shmipc.Examples.Greeter;

internal static class Program
{
    /// <summary>A client that gets no answer gives up after this long instead of hanging.</summary>
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> Main(string[] args)
    {
        var parsed = GreeterArguments.Parse(args, out var error);
        if (parsed is null)
        {
            await Console.Error.WriteLineAsync($"error: {error}{Environment.NewLine}{GreeterArguments.Usage}");
            return 2;
        }

        using var cts = parsed.Verb == "client" ? new CancellationTokenSource(ClientTimeout) : new CancellationTokenSource();

        // Ctrl+C and SIGTERM unwind normally, so the listener removes its socket file and sessions release their memory.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            return parsed.Verb == "server"
                ? await GreeterServer.RunAsync(parsed, cts.Token)
                : await GreeterClient.RunAsync(parsed, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync(parsed.Verb == "client" && !s_signalled
                ? $"{parsed.Verb}: no answer within {ClientTimeout.TotalSeconds:0} s"
                : $"{parsed.Verb}: stopped");
            return s_signalled ? 130 : 1;
        }
        catch (Exception e) when (e is ShmipcException or ChannelClosedException or EndOfStreamException)
        {
            var reason = e is ChannelClosedException { InnerException: { } inner } ? inner : e;
            await Console.Error.WriteLineAsync($"{parsed.Verb}: {reason.Message}");
            return 1;
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            s_signalled = true;
            cts.Cancel();
        }
    }

    private static volatile bool s_signalled;
}
