using System.Runtime.CompilerServices;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

/// <summary>Writes the hostile region and queue images of property 5 into exactly-sized native buffers.</summary>
internal static unsafe class HostileImages
{
    /// <summary>Fills <paramref name="memory"/> for <paramref name="c"/>; returns what was done, for the failure message.</summary>
    public static string BuildRegion(HostileRegionCase c, NativeBuffer memory)
    {
        var random = new Random(c.Seed);
        random.NextBytes(memory.Span);
        return c.Kind switch
        {
            HostileKind.PlausibleHeaders => PlausibleRegion(memory, random),
            HostileKind.CorruptedField => CorruptRegion(c, memory),
            _ => "random bytes",
        };
    }

    public static string BuildQueue(HostileQueueCase c, NativeBuffer memory, QueueLayout layout)
    {
        var random = new Random(c.Seed);
        random.NextBytes(memory.Span);
        return c.Kind switch
        {
            HostileKind.PlausibleHeaders => PlausibleQueue(memory, random),
            HostileKind.CorruptedField => CorruptQueue(c, memory, layout, random),
            _ => "random bytes",
        };
    }

    /// <summary>Lists laid out back to back with small counts, boundary-aligned head/tail and mostly right slice caps.</summary>
    private static string PlausibleRegion(NativeBuffer memory, Random random)
    {
        byte* b = memory.Pointer;
        long length = memory.Length;
        if (length < 8)
        {
            return "plausible: too short for a header";
        }

        int lists = random.Next(1, 4);
        ulong offset = 8;
        int written = 0;
        for (; written < lists; written++)
        {
            uint stride = (4 * (uint)random.Next(1, 64)) + 20;
            long room = (length - (long)offset - 36) / stride;
            if (room < 1)
            {
                break;
            }

            uint cap = random.Next(10) == 0 ? (uint)random.Next() : (uint)random.Next(1, (int)Math.Min(room, 1000) + 1);
            byte* header = b + offset;
            Write(header, random.Next(-2, (int)Math.Min(cap, int.MaxValue - 1) + 1));
            Write(header + 4, cap);
            Write(header + 8, random.Next(10) == 0 ? (uint)random.Next() : stride * (uint)random.Next(0, (int)Math.Min(cap, 1000)));
            Write(header + 12, random.Next(10) == 0 ? (uint)random.Next() : stride * (uint)random.Next(0, (int)Math.Min(cap, 1000)));
            Write(header + 16, stride - 20);
            ulong end = offset + 36 + ((ulong)Math.Min(cap, (uint)room) * stride);
            for (ulong slice = offset + 36; slice + 20 <= end; slice += stride)
            {
                if (random.Next(10) < 7)
                {
                    Write(b + slice, stride - 20);
                }

                int link = random.Next(10);
                if (link < 7)
                {
                    Write(b + slice + 12, stride * (uint)random.Next(0, (int)Math.Min(cap, 1000)));
                }
                else if (link < 8)
                {
                    Write(b + slice + 12, stride * (uint)random.Next((int)Math.Min(cap, 1000), (int)Math.Min(2 * (long)cap, 2000) + 1)); // past the list
                }
            }

            offset += 36 + ((ulong)cap * stride);
            if (offset > (ulong)length)
            {
                written++;
                break;
            }
        }

        Write(b, random.Next(10) == 0 ? (ushort)random.Next(ushort.MaxValue + 1) : (ushort)Math.Max(written, 1));
        if (length >= 8)
        {
            Write(b + 4, random.Next(100) < 85 ? (uint)(offset - 8) : (uint)random.NextInt64(0, length + 1));
        }

        return $"plausible: {written} list headers, lists end at {offset}";
    }

    private static string CorruptRegion(HostileRegionCase c, NativeBuffer memory)
    {
        RegionSpec region = c.Region!;
        ExpectedList[] lists = region.ComputeLists()!;
        BufferManager.Create(memory.Pointer, memory.Length, region.ToCreateArgument());
        ExpectedList list = lists[c.Target % lists.Length];
        uint slice = list.RegionOffset + ((uint)(c.Target / 4 % (int)list.SliceCount) * list.Stride);
        (long fieldOffset, int size) = c.Field switch
        {
            RegionField.ListCount => (0L, 2),
            RegionField.UsedLength => (4L, 4),
            RegionField.ListSize => (list.ListOffset, 4),
            RegionField.ListCap => (list.ListOffset + 4L, 4),
            RegionField.ListHead => (list.ListOffset + 8L, 4),
            RegionField.ListTail => (list.ListOffset + 12L, 4),
            RegionField.ListCapPerBuffer => (list.ListOffset + 16L, 4),
            RegionField.SliceCap => (slice, 4),
            RegionField.SliceNext => (slice + 12L, 4),
            _ => (slice + 16L, 1),
        };
        byte* field = memory.Pointer + fieldOffset;
        uint original = size switch { 1 => *field, 2 => Unsafe.ReadUnaligned<ushort>(field), _ => Unsafe.ReadUnaligned<uint>(field) };
        uint value = Derive(original, list.Stride, list.SliceCount, c.Mode, c.Operand, (uint)memory.Length);
        switch (size)
        {
            case 1:
                *field = (byte)value;
                break;
            case 2:
                Write(field, (ushort)value);
                break;
            default:
                Write(field, value);
                break;
        }

        return $"{c.Field} of list {list.Index} (slice {slice}): {original} -> {value}";
    }

    /// <summary>
    /// StrideMultiple gives either the original ± 3 strides or slice boundary k·stride for k up to 2·sliceCount:
    /// a well-formed link that may point past the list, which only a range check (not a modulo check) refuses.
    /// </summary>
    private static uint Derive(uint original, uint stride, uint sliceCount, CorruptionMode mode, uint operand, uint length) => unchecked(mode switch
    {
        CorruptionMode.Random => operand,
        CorruptionMode.Delta => original + (operand % 9) - 4,
        CorruptionMode.StrideMultiple => (operand & 1) == 0
            ? original + (stride * ((operand / 2 % 7) - 3))
            : stride * (uint)((operand / 2) % ((2UL * sliceCount) + 2)),
        _ => (operand % 10) switch
        {
            0 => 0u,
            1 => 1u,
            2 => uint.MaxValue,
            3 => int.MaxValue,
            4 => 0x8000_0000u,
            5 => length,
            6 => length - 8,
            7 => length + 1,
            8 => original * 2,
            _ => original + (1u << 16),
        },
    });

    /// <summary>Caps that match the length, head/tail near each other, random flags and elements.</summary>
    private static string PlausibleQueue(NativeBuffer memory, Random random)
    {
        long half = memory.Length / 2;
        if (half < 24)
        {
            return "plausible: too short for two headers";
        }

        for (int h = 0; h < 2; h++)
        {
            byte* q = memory.Pointer + (h * half);
            uint cap = random.Next(10) == 0 ? (uint)random.Next() : (uint)Math.Max(0, (half - 24) / 12);
            Write(q, cap);
            long head = random.Next(10) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : random.NextInt64(0, 1L << 40);
            long tail = unchecked(head + random.Next(-2, (int)Math.Min(cap, 1 << 20) + 3));
            QueueLayout layout = random.Next(2) == 0 ? QueueLayout.Amd64 : QueueLayout.Arm64;
            Write(q + layout.HeadOffset, head);
            Write(q + layout.TailOffset, tail);
        }

        return "plausible queue headers";
    }

    private static string CorruptQueue(HostileQueueCase c, NativeBuffer memory, QueueLayout layout, Random random)
    {
        uint capacity = (uint)c.Capacity;
        IoQueuePair creator = IoQueuePair.Create(memory.Pointer, memory.Length, capacity, isCreator: true, layout);
        IoQueuePair mapper = IoQueuePair.Map(memory.Pointer, memory.Length, isCreator: false, layout);
        if (!QueueLayouts.StraddlesCacheLine(layout, memory.Pointer + (memory.Length / 2)))
        {
            // Some traffic first, so head and tail are not both 0 when the field is replaced.
            int puts = random.Next(0, (int)capacity + 1);
            for (int i = 0; i < puts; i++)
            {
                creator.SendQueue.TryPut(QueueElement.Data((uint)i, (uint)i));
                mapper.SendQueue.TryPut(QueueElement.Close((uint)i));
            }

            for (int i = random.Next(0, puts + 1); i > 0; i--)
            {
                mapper.ReceiveQueue.TryPop(out _);
                creator.ReceiveQueue.TryPop(out _);
            }
        }

        byte* q = memory.Pointer + (c.SecondHalf ? memory.Length / 2 : 0);
        long head = Unsafe.ReadUnaligned<long>(q + layout.HeadOffset);
        long tail = Unsafe.ReadUnaligned<long>(q + layout.TailOffset);
        (int fieldOffset, bool wide, long other) = c.Field switch
        {
            QueueField.Cap => (QueueLayout.CapOffset, false, 0L),
            QueueField.Head => (layout.HeadOffset, true, tail),
            QueueField.Tail => (layout.TailOffset, true, head),
            _ => (layout.WorkingFlagOffset, false, 0L),
        };
        byte* field = q + fieldOffset;
        long original = wide ? Unsafe.ReadUnaligned<long>(field) : Unsafe.ReadUnaligned<uint>(field);
        long value = unchecked(c.Mode switch
        {
            CorruptionMode.Random => c.Operand,
            CorruptionMode.Delta => original + (long)((ulong)c.Operand % 9) - 4,
            CorruptionMode.StrideMultiple => original + (capacity * ((long)((ulong)c.Operand % 7) - 3)),
            _ => ((ulong)c.Operand % 10) switch
            {
                0 => 0L,
                1 => -1L,
                2 => long.MaxValue,
                3 => long.MinValue,
                4 => capacity + 1L,
                5 => -capacity,
                6 => other - 1,
                7 => other + capacity,
                8 => other + capacity + 1,
                _ => 1L << 32,
            },
        });
        if (wide)
        {
            Write(field, value);
        }
        else
        {
            Write(field, unchecked((uint)value));
        }

        return $"{(c.SecondHalf ? "second" : "first")} half {c.Field}: {original} -> {(wide ? value : unchecked((uint)value))} (head {head}, tail {tail})";
    }

    private static void Write<T>(byte* address, T value)
        where T : unmanaged => Unsafe.WriteUnaligned(address, value);
}
