using BenchmarkDotNet.Attributes;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// What protecting shared memory against truncation costs: registering and unregistering a range with the SIGBUS
/// guard (once per unsealed mapping), mapping a peer's 1 MiB memfd sealed (seal check, no guard) and unsealed (seal
/// check, guard, second fstat), and the per-reactor-pass check a session makes (one load per region).
/// </summary>
[Config(typeof(FastConfig))]
[MemoryDiagnoser]
public unsafe class SigbusGuardBenchmarks
{
    private const long RegionSize = 1024 * 1024;

    private SharedRegion _sealed = null!;
    private SharedRegion _unsealed = null!;
    private SharedRegion _guardedView = null!;

    [GlobalSetup]
    public void Setup()
    {
        _sealed = SharedRegion.CreateMemFd("shmipc-bench-sealed", RegionSize);
        _unsealed = SharedRegion.CreateMemFd("shmipc-bench-unsealed", RegionSize, seal: false);
        _guardedView = SharedRegion.OpenFd(Native.Dup(_unsealed.FileDescriptor), "bench view");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _guardedView.Dispose();
        _unsealed.Dispose();
        _sealed.Dispose();
    }

    /// <summary>TryRegister + Unregister of a 1 MiB range (the guard's own bookkeeping, under its lock).</summary>
    [Benchmark]
    public int RegisterUnregister()
    {
        if (!SigbusGuard.TryRegister(_sealed.Base, (nuint)RegionSize, out var slot))
        {
            throw new InvalidOperationException("no free guard slot");
        }

        SigbusGuard.Unregister(slot);
        return slot;
    }

    /// <summary>dup + OpenFd (F_GET_SEALS, fstat, mmap) + Dispose (munmap, close) of a sealed memfd: no guard.</summary>
    [Benchmark(Baseline = true)]
    public long MapSealedPeerRegion()
    {
        using var view = SharedRegion.OpenFd(Native.Dup(_sealed.FileDescriptor), "bench");
        return view.Length;
    }

    /// <summary>The same for an unsealed memfd (shmipc-go's): plus guard registration and a second fstat.</summary>
    [Benchmark]
    public long MapUnsealedPeerRegion()
    {
        using var view = SharedRegion.OpenFd(Native.Dup(_unsealed.FileDescriptor), "bench");
        return view.Length;
    }

    /// <summary>The session's per-pass check over a guarded buffer region and a sealed queue: two plain loads.</summary>
    [Benchmark]
    public bool TruncationCheck() => _guardedView.WasTruncated || _sealed.WasTruncated;
}
