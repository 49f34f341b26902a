using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Benchmarks.Micro;

/// <summary>
/// The shared-memory buffer manager on a 32 MiB region in native memory with shmipc's default size classes
/// (8172 / 32748 / 131052 bytes, 50 / 30 / 20 %): one slice allocated and recycled per size class, and a chain of
/// N slices allocated, committed (sizes + links written) and recycled by walking the chain as a receiver does.
/// </summary>
[Config(typeof(FastConfig))]
[MemoryDiagnoser]
public unsafe class BufferManagerBenchmarks
{
    private const long RegionSize = 32L * 1024 * 1024;
    private const int LargestSlice = 131052;

    private readonly uint[] _chain = new uint[16];
    private byte* _memory;
    private BufferManager _manager = null!;

    [GlobalSetup]
    public void Setup()
    {
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)RegionSize, 4096);
        NativeMemory.Clear(_memory, (nuint)RegionSize);
        ReadOnlySpan<(uint, uint)> classes = [(8172u, 50u), (32748u, 30u), (131052u, 20u)];
        _manager = BufferManager.Create(_memory, RegionSize, classes);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_memory);
        _memory = null;
    }

    /// <summary>TryAllocate picks the first list whose slices hold <paramref name="sliceSize"/> bytes: exactly that class.</summary>
    [Benchmark]
    [Arguments(8172)]
    [Arguments(32748)]
    [Arguments(131052)]
    public uint AllocateRecycle(int sliceSize)
    {
        if (!_manager.TryAllocate(sliceSize, out var offset))
        {
            throw new InvalidOperationException($"no free slice of {sliceSize} bytes");
        }

        _manager.Recycle(offset);
        return offset;
    }

    /// <summary>
    /// A message of <paramref name="slices"/> × 131052 bytes: one largest slice for N = 1, otherwise N slices taken
    /// from the largest list (TryAllocateChain), committed (CommitChain: sizes, starts, next links, flags), then
    /// recycled by following the links (RecycleChain validates the whole chain first).
    /// </summary>
    [Benchmark]
    [Arguments(1)]
    [Arguments(4)]
    [Arguments(16)]
    public int Chain(int slices)
    {
        long size = (long)slices * LargestSlice;
        var offsets = _chain.AsSpan();
        var count = _manager.TryAllocateChain(size, offsets);
        if (count != slices)
        {
            throw new InvalidOperationException($"allocated {count} slices for {size} bytes, expected {slices}");
        }

        _manager.CommitChain(offsets[..count], size);
        return _manager.RecycleChain(offsets[0]);
    }
}
