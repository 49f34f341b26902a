using BenchmarkDotNet.Running;
using Shmipc.Channels.Benchmarks.Connect;
using Shmipc.Channels.Benchmarks.Micro;
using Shmipc.Channels.Benchmarks.PingPong;

namespace Shmipc.Channels.Benchmarks;

/// <summary>
/// Verbs: <c>pingpong</c> (cross-process harness, see PingPong/), <c>pingpong-server</c> (its child process),
/// <c>alloc-probe</c> (allocation sources of the session round trip), <c>connect-cost</c> (connect time and memory per
/// session), <c>soak</c> (long run, see Soak/); anything else goes to BenchmarkDotNet.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var verb = args.Length > 0 ? args[0] : string.Empty;
        var rest = args.Length > 0 ? args[1..] : args;
        switch (verb)
        {
            case "pingpong":
                return PingPongHarness.RunAsync(rest).GetAwaiter().GetResult();
            case "pingpong-server":
                return PingPongServer.RunAsync(rest).GetAwaiter().GetResult();
            case "connect-cost":
                return ConnectCost.RunAsync(rest).GetAwaiter().GetResult();
            case "soak":
                return Soak.SoakHarness.RunAsync(rest).GetAwaiter().GetResult();
            case "grpc":
                return Grpc.GrpcBench.RunAsync(rest).GetAwaiter().GetResult();
            case "alloc-probe":
                return AllocationProbe.RunAsync(rest).GetAwaiter().GetResult();
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }
}
