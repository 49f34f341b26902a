// Property 5a — hostile bytes as a buffer region (docs/PROTOCOL.md §4.4, §4.8 "treat the region as hostile").
// Invariant: BufferManager.Map over exactly `length` bytes of native memory holding random bytes (0..64 KiB),
// random bytes with plausibly shaped headers, or a valid Create'd region with one field corrupted (listCount,
// usedLength, a list's size/cap/head/tail/capPerBuffer, or a free slice's cap/next/flags) either throws
// ShmipcException(CorruptSharedMemory) or returns a manager whose lists lie contiguously inside the mapping;
// every later operation (pop every list dry, write the popped slices, walk, read chains from popped and
// random offsets, recycle, allocate, chain round trip) then either throws CorruptSharedMemory or stays in
// bounds: every offset handed out is a slice inside the mapping, every chain segment lies inside one slice,
// and no walk yields more segments than the region has slices. Never another exception type; an access
// outside the mapping would crash the test host.
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

public sealed unsafe class HostileRegionProperties
{
    [Property(MaxTest = 400, Arbitrary = new[] { typeof(Generators) })]
    public Property Hostile_region_images_are_rejected_or_stay_in_bounds(HostileRegionCase hostile)
    {
        using var memory = NativeBuffer.WithGuardPage(hostile.Length);
        string what = HostileImages.BuildRegion(hostile, memory);
        BufferManager? manager = null;
        ShmipcException? rejected = Verify.OnlyThrows(ShmipcErrorCode.CorruptSharedMemory, () => manager = MapOn(memory), $"Map ({what})");
        if (rejected is not null)
        {
            return true.Classify(true, $"{hostile.Kind}: rejected by Map");
        }

        var exercise = new HostileRegionExercise(manager!, memory.Length, hostile.Seed, what);
        exercise.Run();
        return true.Classify(true, $"{hostile.Kind}: mapped, {(exercise.CorruptSteps > 0 ? "a later step found corruption" : "every later step succeeded")}");
    }

    private static BufferManager MapOn(NativeBuffer memory) => BufferManager.Map(memory.Pointer, memory.Length);
}
