// Property 6 — the hardened chain reader (docs/PROTOCOL.md §4.7, §4.8).
// Invariant (valid chains): a chain written with TryAllocateChain + CommitChain, or with single slices of
// random lists, random lengths (empty slices included) and LinkChain, reads back through a second manager
// (made by Map, as the receiving peer) identically: EnumerateChain and TryReadChain yield exactly the written
// slices, lengths and bytes, TryReadChain reports the needed count when its span is too small, and
// RecycleChain returns every slice so that every list is whole and walks cleanly again.
// Invariant (one corrupted header): after changing one field of one slice header of such a chain (cap, size,
// start, flags, or next: arbitrary, a loop, a free slice, inside a slice, inside a list header, past the
// lists), EnumerateChain and TryReadChain agree and either throw ShmipcException(CorruptSharedMemory) or yield
// at most as many segments as the region has slices, each inside one slice of the mapping — never another
// exception, never an endless walk. Where the corruption decides the outcome it is checked exactly: a loop, an
// offset that is not a slice header, a cap mismatch or start + size > cap is refused; a consistent size/start
// or a cleared HasNext reads as the correspondingly changed message. A refused chain is not recycled at all.
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

public sealed unsafe class ChainReaderProperties
{
    [Property(MaxTest = 200, Arbitrary = new[] { typeof(Generators) })]
    public Property Valid_chains_read_back_identically(ChainCase chain)
    {
        using var fixture = new ChainFixture(chain);
        int n = fixture.Slices.Length;
        uint first = fixture.Slices[0];
        (SliceSegment[]? enumerated, _) = ReadBounded(fixture, first);
        Verify.That(enumerated is not null && enumerated.SequenceEqual(fixture.Segments), $"EnumerateChain yielded [{Join(enumerated)}], wrote [{Join(fixture.Segments)}]");
        CheckData(fixture, enumerated!);

        var exact = new SliceSegment[n];
        bool fits = fixture.Reader.TryReadChain(first, exact, out int count, out long total);
        Verify.That(fits && count == n && total == fixture.Lengths.Sum(l => (long)l) && exact.SequenceEqual(fixture.Segments), $"TryReadChain gave ({fits}, {count}, {total})");
        if (n > 1)
        {
            fits = fixture.Reader.TryReadChain(first, new SliceSegment[n - 1], out int needed, out long total2);
            Verify.That(!fits && needed == n && total2 == total, $"TryReadChain with {n - 1} entries gave ({fits}, {needed}, {total2})");
        }

        int recycled = fixture.Reader.RecycleChain(first);
        Verify.That(recycled == n, $"RecycleChain returned {recycled} of {n}");
        foreach (ExpectedList list in fixture.Lists)
        {
            bool walk = fixture.Reader.WalkFreeList(list.Index, out int visited);
            Verify.That(walk && visited == (int)list.SliceCount && fixture.Reader.GetList(list.Index).FreeCount == (int)list.SliceCount, $"list {list.Index} after RecycleChain: walk ({walk}, {visited}) of {list.SliceCount}");
        }

        return true
            .Classify(n == 1, "1 slice")
            .Classify(n > 8, "more than 8 slices")
            .Classify(fixture.Lengths.Take(n - 1).Contains(0), "an empty slice inside the chain");
    }

    [Property(MaxTest = 500, Arbitrary = new[] { typeof(Generators) })]
    public Property Corrupted_chains_are_refused_or_read_in_bounds(CorruptChainCase corruption)
    {
        using var fixture = new ChainFixture(corruption.Chain);
        (Expected expected, SliceSegment[]? segments, string what) = Corrupt(fixture, corruption);
        uint first = fixture.Slices[0];
        int[] freeBefore = fixture.FreeCounts();

        (SliceSegment[]? enumerated, ShmipcException? refused) = ReadBounded(fixture, first);
        SliceSegment[]? tried = null;
        var destination = new SliceSegment[fixture.Reader.TotalSliceCount + 1];
        ShmipcException? refused2 = Verify.OnlyThrows(
            ShmipcErrorCode.CorruptSharedMemory,
            () =>
            {
                fixture.Reader.TryReadChain(first, destination, out int count, out long total);
                tried = destination[..count];
                Verify.That(total == tried.Sum(s => (long)s.Length), $"TryReadChain total {total} is not the sum of its segments ({what})");
            },
            $"TryReadChain ({what})");
        Verify.That(
            (refused is null) == (refused2 is null) && (enumerated is null || enumerated.SequenceEqual(tried!)),
            $"EnumerateChain ({refused?.Message ?? Join(enumerated)}) and TryReadChain ({refused2?.Message ?? Join(tried)}) disagree ({what})");

        switch (expected)
        {
            case Expected.Refused:
                Verify.That(refused is not null, $"expected CorruptSharedMemory, read [{Join(enumerated)}] ({what})");
                break;
            case Expected.Segments:
                Verify.That(enumerated is not null && enumerated.SequenceEqual(segments!), $"expected [{Join(segments)}], got {refused?.Message ?? Join(enumerated)} ({what})");
                CheckData(fixture, enumerated!);
                break;
        }

        if (refused is not null)
        {
            ShmipcException? recycleRefused = Verify.OnlyThrows(ShmipcErrorCode.CorruptSharedMemory, () => fixture.Reader.RecycleChain(first), $"RecycleChain ({what})");
            Verify.That(recycleRefused is not null && fixture.FreeCounts().SequenceEqual(freeBefore), $"RecycleChain of a refused chain must throw before recycling anything ({what})");
        }

        return true.Classify(true, $"{corruption.Field}: {(refused is null ? "read in bounds" : "refused")}");
    }

    private enum Expected
    {
        /// <summary>The outcome is not determined by the corruption; only bounds are checked.</summary>
        Bounded,
        Refused,
        Segments,
    }

    /// <summary>Applies the corruption; returns what the reader must do where that is determined.</summary>
    private static (Expected Expected, SliceSegment[]? Segments, string What) Corrupt(ChainFixture f, CorruptChainCase c)
    {
        int n = f.Slices.Length;
        int i = c.Index % n;
        uint slice = f.Slices[i];
        ExpectedList list = f.ListOf(slice);
        byte* header = f.Base + slice;
        uint cap = list.CapPerBuffer;
        uint usedEnd = 8 + RegionSpec.UsedLength(f.Lists);
        string what = $"slice #{i} of {n} at {slice}, {c.Field}";
        switch (c.Field)
        {
            case ChainField.Cap:
            {
                uint value = Derive(cap, list.Stride, c.Mode, c.Operand, f.Length);
                *(uint*)header = value;
                return value == cap ? (Expected.Segments, f.Segments, what) : (Expected.Refused, null, $"{what} {cap} -> {value}");
            }

            case ChainField.Size:
            case ChainField.Start:
            {
                bool size = c.Field == ChainField.Size;
                uint value = Derive(size ? (uint)f.Lengths[i] : 0u, list.Stride, c.Mode, c.Operand, f.Length);
                *(uint*)(header + (size ? 4 : 8)) = value;
                uint start = size ? 0u : value;
                uint length = size ? value : (uint)f.Lengths[i];
                if ((ulong)start + length > cap)
                {
                    return (Expected.Refused, null, $"{what} := {value} (cap {cap})");
                }

                SliceSegment[] changed = (SliceSegment[])f.Segments.Clone();
                changed[i] = new SliceSegment(slice, slice + 20 + start, (int)length);
                return (Expected.Segments, changed, $"{what} := {value}");
            }

            case ChainField.Flags:
            {
                byte value = (byte)c.Operand;
                bool hadNext = i < n - 1;
                bool hasNext = (value & BufferManagerLayout.SliceFlagHasNext) != 0;
                header[16] = value;
                string flags = $"{what} := 0x{value:X2}";
                return hasNext == hadNext ? (Expected.Segments, f.Segments, flags)
                    : hadNext ? (Expected.Segments, f.Segments[..(i + 1)], flags)
                    : (Expected.Bounded, null, $"{flags} (follows the stale next {*(uint*)(header + 12)})");
            }

            default:
            {
                uint next = c.Field switch
                {
                    ChainField.NextValue => Derive(*(uint*)(header + 12), list.Stride, c.Mode, c.Operand, f.Length),
                    ChainField.NextLoop => f.Slices[(int)(c.Operand % (uint)(i + 1))],
                    ChainField.NextFreeSlice => FindFreeSlice(f, c.Operand),
                    ChainField.NextInsideSlice => InsideSlice(f, c.Operand),
                    ChainField.NextListHeader => c.Operand % 5 == 0 ? c.Operand % 8 : f.Lists[(int)(c.Operand % (uint)f.Lists.Length)].ListOffset + (c.Operand % 36),
                    _ => (c.Operand % 4) switch
                    {
                        0 => usedEnd,
                        1 => uint.MaxValue,
                        _ => usedEnd + (c.Operand % (uint.MaxValue - usedEnd)),
                    },
                };
                *(uint*)(header + 12) = next;
                header[16] |= BufferManagerLayout.SliceFlagHasNext;
                string link = $"{what} := {next}";
                bool loops = f.Slices.AsSpan(0, i + 1).Contains(next);
                bool notAHeader = !f.Lists.Any(l => l.IsSliceHeader(next));
                return loops || notAHeader ? (Expected.Refused, null, link)
                    : i < n - 1 && next == f.Slices[i + 1] ? (Expected.Segments, f.Segments, link)
                    : (Expected.Bounded, null, link);
            }
        }
    }

    private static uint Derive(uint original, uint stride, CorruptionMode mode, uint operand, long length) => unchecked(mode switch
    {
        CorruptionMode.Random => operand,
        CorruptionMode.Delta => original + (operand % 9) - 4,
        CorruptionMode.StrideMultiple => original + (stride * ((operand % 7) - 3)),
        _ => (operand % 8) switch
        {
            0 => 0u,
            1 => 1u,
            2 => uint.MaxValue,
            3 => int.MaxValue,
            4 => 0x8000_0000u,
            5 => (uint)length,
            6 => original + stride,
            _ => original * 2,
        },
    });

    /// <summary>A slice header that is not part of the chain (all other slices of the fresh region are free).</summary>
    private static uint FindFreeSlice(ChainFixture f, uint operand)
    {
        ExpectedList list = f.Lists[(int)(operand % (uint)f.Lists.Length)];
        for (uint k = 0; k < list.SliceCount; k++)
        {
            uint candidate = list.RegionOffset + (((operand + k) % list.SliceCount) * list.Stride);
            if (!f.Slices.Contains(candidate))
            {
                return candidate;
            }
        }

        return f.Lists[0].RegionOffset + 1; // every slice of that list is in the chain: use a non-header offset
    }

    /// <summary>An offset strictly inside some slice (header bytes 1..19 or its data), never at a header.</summary>
    private static uint InsideSlice(ChainFixture f, uint operand)
    {
        ExpectedList list = f.Lists[(int)(operand % (uint)f.Lists.Length)];
        uint slice = list.RegionOffset + ((operand / 7 % list.SliceCount) * list.Stride);
        return slice + 1 + (operand % (list.Stride - 1));
    }

    /// <summary>Walks with EnumerateChain, checking every segment lies inside one slice and the walk ends.</summary>
    private static (SliceSegment[]? Segments, ShmipcException? Refused) ReadBounded(ChainFixture f, uint first)
    {
        var segments = new List<SliceSegment>();
        ShmipcException? refused = Verify.OnlyThrows(
            ShmipcErrorCode.CorruptSharedMemory,
            () =>
            {
                foreach (SliceSegment segment in f.Reader.EnumerateChain(first))
                {
                    Verify.That(segments.Count < f.Reader.TotalSliceCount, $"EnumerateChain from {first} yielded more than the region's {f.Reader.TotalSliceCount} slices");
                    ExpectedList? list = f.Lists.FirstOrDefault(l => l.IsSliceHeader(segment.SliceOffset));
                    Verify.That(
                        list is not null
                        && segment.Length >= 0
                        && segment.DataOffset >= segment.SliceOffset + 20
                        && (ulong)segment.DataOffset + (ulong)segment.Length <= (ulong)segment.SliceOffset + list.Stride
                        && (ulong)segment.SliceOffset + list.Stride <= (ulong)f.Length,
                        $"segment {segment} is not inside one slice of the mapping");
                    _ = f.Reader.GetSpan(segment);
                    segments.Add(segment);
                }
            },
            $"EnumerateChain from {first}");
        return (refused is null ? [.. segments] : null, refused);
    }

    /// <summary>The bytes of each segment are the ones written into that slice at that position.</summary>
    private static void CheckData(ChainFixture f, SliceSegment[] segments)
    {
        foreach (SliceSegment segment in segments)
        {
            int j = Array.IndexOf(f.Slices, segment.SliceOffset);
            int start = (int)(segment.DataOffset - segment.SliceOffset - 20);
            ReadOnlySpan<byte> data = f.Reader.GetSpan(segment);
            for (int b = 0; b < data.Length; b++)
            {
                if (data[b] != Patterns.At(f.Stamp, j, start + b))
                {
                    throw new PropertyFailure($"segment {segment} (slice #{j}) differs from the written bytes at {b}");
                }
            }
        }
    }

    private static string Join(SliceSegment[]? segments) => segments is null ? "null" : string.Join(", ", segments);
}
