using System.Runtime.CompilerServices;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Tests.Memory;

public sealed unsafe class BufferManagerMapTests : IDisposable
{
    private const int Length = 1 << 20;
    private const int List1 = 524_132; // second list header of the {1024:50, 4096:50} layout (vectors B)
    private readonly NativeBuffer _memory = new(Length);

    public BufferManagerMapTests() => BufferManager.Create(_memory.Address, Length, [(1024u, 50u), (4096u, 50u)]);

    public void Dispose() => _memory.Dispose();

    private void Write<T>(long offset, T value)
        where T : unmanaged => Unsafe.WriteUnaligned(_memory.Address + offset, value);

    private string AssertCorrupt(long length = Length)
    {
        var e = Assert.Throws<ShmipcException>(() => BufferManager.Map(_memory.Address, length));
        Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, e.ErrorCode);
        return e.Message;
    }

    [Fact]
    public void Map_accepts_the_fresh_layout()
    {
        BufferManager m = BufferManager.Map(_memory.Address, Length);
        Assert.Equal((2, 502u, 127u), (m.ListCount, m.GetList(0).SliceCount, m.GetList(1).SliceCount));
        Assert.Equal((uint)List1, m.GetList(1).ListOffset);
    }

    [Fact]
    public void Map_rejects_a_mapping_shorter_than_the_manager_header() => Assert.Contains("shorter", AssertCorrupt(7));

    [Fact]
    public void Map_rejects_listCount_0()
    {
        Write<ushort>(ListCountOffset, 0);
        Assert.Contains("listCount is 0", AssertCorrupt());
    }

    [Fact]
    public void Map_rejects_a_listCount_that_does_not_match_the_lists()
    {
        Write<ushort>(ListCountOffset, 3);
        AssertCorrupt();
        Write<ushort>(ListCountOffset, ushort.MaxValue);
        AssertCorrupt();
    }

    [Fact]
    public void Map_rejects_usedLength_beyond_the_mapping()
    {
        Write<uint>(UsedLengthOffset, Length - 7);
        Assert.Contains("usedLength 1048569", AssertCorrupt());
        Write<uint>(UsedLengthOffset, uint.MaxValue);
        AssertCorrupt();
    }

    [Fact]
    public void Map_rejects_usedLength_that_does_not_match_the_lists()
    {
        Write<uint>(UsedLengthOffset, 1_046_892 + 20); // lists end before usedLength says
        Assert.Contains("lists end at", AssertCorrupt());
        Write<uint>(UsedLengthOffset, 1_046_892 - 1); // last list overhangs usedLength
        AssertCorrupt();
    }

    [Fact]
    public void Map_rejects_head_not_on_a_slice_boundary()
    {
        Write<uint>(8 + ListHeadOffset, 1);
        Assert.Contains("head 1 ", AssertCorrupt());
    }

    [Fact]
    public void Map_rejects_head_or_tail_past_the_list()
    {
        Write<uint>(List1 + ListTailOffset, 127 * 4116);
        Assert.Contains("tail 522732", AssertCorrupt());
    }

    [Fact]
    public void Map_rejects_cap_overflow()
    {
        Write<uint>(8 + ListCapOffset, uint.MaxValue);
        Assert.Contains("cap 4294967295", AssertCorrupt());
    }

    [Fact]
    public void Map_rejects_cap_or_capPerBuffer_zero_and_size_above_cap()
    {
        Write<uint>(List1 + ListCapPerBufferOffset, 0);
        Assert.Contains("capPerBuffer 0", AssertCorrupt());
        Write<uint>(List1 + ListCapPerBufferOffset, 4096);
        Write<uint>(List1 + ListCapOffset, 0);
        Assert.Contains("cap is 0", AssertCorrupt());
        Write<uint>(List1 + ListCapOffset, 127);
        Write<int>(List1 + ListSizeOffset, 128);
        Assert.Contains("size 128 exceeds cap 127", AssertCorrupt());
    }

    [Fact]
    public void Map_never_crashes_on_random_headers()
    {
        var random = new Random(7);
        byte[] header = new byte[256];
        for (int round = 0; round < 20_000; round++)
        {
            random.NextBytes(header);
            if (round % 2 == 0)
            {
                // Plausible small values so that deeper checks are reached.
                Write<ushort>(ListCountOffset, (ushort)random.Next(0, 4));
                header.AsSpan(0, 2).Clear();
            }

            header.CopyTo(new Span<byte>(_memory.Address + (round % 2 == 0 ? 2 : 0), header.Length));
            long length = random.Next(0, 4) == 0 ? random.Next(0, 300) : Length;
            try
            {
                BufferManager m = BufferManager.Map(_memory.Address, length);
                Assert.InRange(8L + m.UsedLength, 8, length);
            }
            catch (ShmipcException e)
            {
                Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, e.ErrorCode);
            }
        }
    }

    [Fact]
    public void Mutated_valid_region_never_crashes_allocation_recycling_or_chain_reading()
    {
        var random = new Random(11);
        byte[] pristine = _memory.Span.ToArray();
        SliceSegment[] segments = new SliceSegment[16];
        for (int round = 0; round < 300; round++)
        {
            pristine.CopyTo(_memory.Span);
            for (int k = 0; k < 3; k++)
            {
                // Damage list headers or slice headers of the first slices of each list.
                long offset = random.Next(3) switch
                {
                    0 => random.Next(0, 44),
                    1 => List1 + random.Next(0, 36 + 60),
                    _ => 44 + (random.Next(0, 4) * 1044) + random.Next(0, 20),
                };
                _memory.Address[offset] = (byte)random.Next(256);
            }

            try
            {
                BufferManager m = BufferManager.Map(_memory.Address, Length);
                for (int i = 0; i < 5; i++)
                {
                    if (m.TryAllocate(random.Next(0, 4097), out uint slice))
                    {
                        m.Recycle(slice);
                    }

                    m.TryReadChain((uint)random.Next(0, Length + 100), segments, out _, out _);
                }
            }
            catch (ShmipcException e)
            {
                Assert.Equal(ShmipcErrorCode.CorruptSharedMemory, e.ErrorCode);
            }
        }
    }
}
