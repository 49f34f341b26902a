using Shmipc.Channels.Protocol;
using Xunit;
using static Shmipc.Channels.Tests.Protocol.ProtocolAssert;

namespace Shmipc.Channels.Tests.Protocol;

public class FrameHeaderTests
{
    [Fact]
    public void Write_ProducesBigEndianLayout()
    {
        byte[] bytes = new byte[8];
        new FrameHeader(0x0102_0304, 3, EventType.FallbackData).Write(bytes);
        Assert.Equal(Hex("01020304 7758 03 03"), bytes);
    }

    [Fact]
    public void TryRead_RoundTrips_AndNeedsEightBytes()
    {
        Assert.False(FrameHeader.TryRead(Hex("00000008 7758 03"), out _));
        Assert.True(FrameHeader.TryRead(Hex("0000000c 7758 02 02 00000004"), out FrameHeader h));
        Assert.Equal(new FrameHeader(12, 2, EventType.StreamClose), h);
        Assert.True(h.HasValidMagic);
        Assert.Null(h.GetValidationError());
    }

    [Fact]
    public void EventType_CodesMatchTheGoConstants()
    {
        Assert.Equal(
            ["ShareMemoryByFilePath", "Polling", "StreamClose", "FallbackData", "ExchangeProtoVersion",
             "ShareMemoryByMemfd", "AckShareMemory", "AckReadyRecvFD", "HotRestart", "HotRestartAck"],
            Enumerable.Range(0, 10).Select(i => ((EventType)i).ToString()));
    }

    [Theory]
    [InlineData("00000008 7759 03 01", "magic 0x7759")]
    [InlineData("00000008 7758 00 01", "version 0")]
    [InlineData("00000008 7758 03 0a", "type 10")]
    [InlineData("00000008 7758 03 ff", "type 255")]
    [InlineData("00000004 7758 03 01", "length 4")]
    public void Validate_RejectsPerSection1_1(string hex, string message)
    {
        FrameHeader h = FrameHeader.Read(Hex(hex));
        Throws(ShmipcErrorCode.ProtocolViolation, () => h.Validate(), message);
    }

    [Fact]
    public void Validate_AcceptsAnyNonZeroVersion()
    {
        FrameHeader.Read(Hex("00000008 7758 07 01")).Validate();
        FrameHeader.Read(Hex("00000008 7758 ff 01")).Validate();
    }

    [Fact]
    public void Write_RejectsShortDestination()
    {
        Assert.Throws<ArgumentException>(() => new FrameHeader(8, 3, EventType.Polling).Write(new byte[7]));
    }
}
