using System.Diagnostics;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// Taken right before the measured part of a cell and stopped right after it: wall time, CPU time (this process plus the
/// transport's child, see <see cref="CpuMeter"/>), their context switches, and bytes allocated by this process (all threads).
/// </summary>
internal readonly struct CellMeter
{
    private readonly ServerProcess? _child;
    private readonly TimeSpan _cpuBefore;
    private readonly long _switchesBefore;
    private readonly long _allocatedBefore;
    private readonly long _start;

    private CellMeter(ServerProcess? child)
    {
        _child = child;
        _switchesBefore = CpuMeter.ContextSwitches(child);
        _cpuBefore = CpuMeter.Sample(child); // before the allocation count: reading /proc allocates, and that is not the transport's
        _allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        _start = Stopwatch.GetTimestamp();
    }

    public static CellMeter Start(ServerProcess? child) => new(child);

    /// <summary>Fills <see cref="CellResult.Elapsed"/>, <see cref="CellResult.CpuTime"/> and <see cref="CellResult.AllocatedBytes"/>.</summary>
    public void Stop(CellResult result)
    {
        result.Elapsed = Stopwatch.GetElapsedTime(_start);
        result.AllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - _allocatedBefore;
        result.CpuTime = CpuMeter.Sample(_child) - _cpuBefore;
        result.ContextSwitches = CpuMeter.ContextSwitches(_child) - _switchesBefore;
    }
}
