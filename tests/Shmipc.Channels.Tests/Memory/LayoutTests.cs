using System.Runtime.InteropServices;
using Shmipc.Channels.Memory;
using Xunit;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Tests.Memory;

public class LayoutTests
{
    [Fact]
    public void BufferManagerLayout_matches_protocol_section_4_4()
    {
        Assert.Equal(8, ManagerHeaderSize);
        Assert.Equal((0, 2, 4), (ListCountOffset, ReservedOffset, UsedLengthOffset));
        Assert.Equal(36, ListHeaderSize);
        Assert.Equal((0, 4, 8, 12, 16, 20, 24),
            (ListSizeOffset, ListCapOffset, ListHeadOffset, ListTailOffset, ListCapPerBufferOffset, ListCreatorCounterOffset, ListMapperCounterOffset));
        Assert.Equal(20, SliceHeaderSize);
        Assert.Equal((0, 4, 8, 12, 16), (SliceCapOffset, SliceSizeOffset, SliceStartOffset, SliceNextOffset, SliceFlagsOffset));
        Assert.Equal((1, 2), (SliceFlagHasNext, SliceFlagInUse));
        Assert.Equal(8192ul, Stride(8172));
        Assert.Equal(16_769_060ul, ListBytes(2047, 8172));
        Assert.Equal(36ul + (0xFFFF_FFFFul * 0x7FFF_FFFFul), ListBytes(uint.MaxValue, int.MaxValue - 20)); // no overflow at the validated maximum
    }

    [Fact]
    public void QueueLayout_amd64_and_arm64_match_protocol_section_4_3()
    {
        Assert.Equal((24, 12), (QueueLayout.HeaderSize, QueueLayout.ElementSize));
        Assert.Equal((0, 4, 8), (QueueLayout.ElementStreamIdOffset, QueueLayout.ElementOffsetOffset, QueueLayout.ElementStatusOffset));
        Assert.Equal(0, QueueLayout.CapOffset);
        Assert.Equal((4, 12, 20), (QueueLayout.Amd64.HeadOffset, QueueLayout.Amd64.TailOffset, QueueLayout.Amd64.WorkingFlagOffset));
        Assert.Equal((8, 16, 4), (QueueLayout.Arm64.HeadOffset, QueueLayout.Arm64.TailOffset, QueueLayout.Arm64.WorkingFlagOffset));
        Assert.Equal(98_328, QueueLayout.QueueSize(8192));
        Assert.Equal(196_656, QueueLayout.PairSize(8192));
        Assert.Equal(432, IoQueuePair.SizeFor(16));
    }

    [Fact]
    public void QueueLayout_current_follows_process_architecture()
    {
        bool arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
        Assert.Equal(arm ? QueueLayout.Arm64 : QueueLayout.Amd64, QueueLayout.Current);
        Assert.NotEqual(QueueLayout.Amd64, QueueLayout.Arm64);
    }

    [Fact]
    public void QueueElement_status_low_byte_decides_close()
    {
        Assert.True(QueueElement.Close(2).IsClose);
        Assert.Equal(new QueueElement(2, 0, 1), QueueElement.Close(2));
        Assert.False(QueueElement.Data(2, 44).IsClose);
        Assert.True(new QueueElement(2, 0, 0x0000_0101).IsClose); // reserved bits ignored
    }

    [Fact]
    public unsafe void SliceHeader_reads_fields_little_endian()
    {
        byte[] bytes = Convert.FromHexString("EC1F0000B80B00000000000000200000" + "02000000");
        fixed (byte* p = bytes)
        {
            SliceHeader h = SliceHeader.Read(p);
            Assert.Equal(new SliceHeader(8172, 3000, 0, 8192, 2), h);
            Assert.True(h.InUse);
            Assert.False(h.HasNext);
        }
    }
}
