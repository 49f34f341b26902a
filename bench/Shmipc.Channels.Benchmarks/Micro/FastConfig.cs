using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// A `--job short`-like configuration that runs inside the benchmark process: ShortRun (1 launch, 3 warm-up and
/// 3 measured iterations) with the in-process emit toolchain, plus the memory diagnoser.
/// </summary>
/// <remarks>
/// Why in-process: the default toolchain generates, restores and builds a separate project per benchmark class,
/// which takes minutes on this shared 2-core machine; the in-process toolchain measures the same code with the same
/// JIT settings (Release, tiered PGO) without that cost. The memory diagnoser counts every thread's allocations
/// (GC.GetTotalAllocatedBytes), so the reactor thread and thread-pool continuations of the session round trip are
/// included in "Allocated".
/// </remarks>
public sealed class FastConfig : ManualConfig
{
    public FastConfig()
    {
        AddJob(Job.ShortRun
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("ShortRun-InProcess"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
