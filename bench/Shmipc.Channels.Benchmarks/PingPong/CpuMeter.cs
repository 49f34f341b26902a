using System.Diagnostics;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// CPU time (user + system) of the harness process plus one server child, sampled around a cell, so the table can show
/// what a round trip costs in CPU, spinning included. Resolution is the kernel's clock tick (10 ms): fine for 1-second cells.
/// </summary>
internal static class CpuMeter
{
    public static TimeSpan Sample(ServerProcess? server)
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime + (server?.CpuTime ?? TimeSpan.Zero);
    }
}
