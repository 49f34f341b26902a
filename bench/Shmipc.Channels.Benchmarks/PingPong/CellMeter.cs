using System.Diagnostics;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// Taken right before the measured part of a cell and stopped right after it: wall time, CPU time (this process plus the
/// transport's child, see <see cref="CpuMeter"/>) and bytes allocated by this process (all threads).
/// </summary>
internal readonly struct CellMeter
{
    private readonly Func<TimeSpan> _cpu;
    private readonly TimeSpan _cpuBefore;
    private readonly long _allocatedBefore;
    private readonly long _start;

    private CellMeter(Func<TimeSpan> cpu)
    {
        _cpu = cpu;
        _cpuBefore = cpu(); // first: reading /proc allocates, and that is not the transport's
        _allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        _start = Stopwatch.GetTimestamp();
    }

    public static CellMeter Start(Func<TimeSpan> cpu) => new(cpu);

    /// <summary>Fills <see cref="CellResult.Elapsed"/>, <see cref="CellResult.CpuTime"/> and <see cref="CellResult.AllocatedBytes"/>.</summary>
    public void Stop(CellResult result)
    {
        result.Elapsed = Stopwatch.GetElapsedTime(_start);
        result.AllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - _allocatedBefore;
        result.CpuTime = _cpu() - _cpuBefore;
    }
}
