using Shmipc.Channels.Protocol;
using Xunit;
using static Shmipc.Channels.Tests.Protocol.ProtocolAssert;

namespace Shmipc.Channels.Tests.Protocol;

public class FrameParserTests
{
    private readonly FrameParser _parser = new();

    [Fact]
    public void PartialHeader_NeedsEightBytes()
    {
        Assert.False(_parser.TryParse([], out _, out int needed));
        Assert.Equal(8, needed);
        Assert.False(_parser.TryParse(Hex("00000008 7758 03"), out _, out needed));
        Assert.Equal(8, needed);
    }

    [Fact]
    public void PartialBody_NeedsTheWholeFrame()
    {
        byte[] frame = Hex("00000012 7758 03 03 00000002 00000000 6869");
        for (int i = 8; i < frame.Length; i++)
        {
            Assert.False(_parser.TryParse(frame.AsSpan(0, i), out _, out int needed));
            Assert.Equal(18, needed);
        }

        Assert.True(_parser.TryParse(frame, out FrameEvent e, out int none));
        Assert.Equal(0, none);
        Assert.Equal(EventType.FallbackData, e.Type);
        Assert.Equal(2u, e.StreamId);
        Assert.Equal(18, e.FrameLength);
        Assert.Equal("hi"u8.ToArray(), e.GetPayload(frame).ToArray());
    }

    [Fact]
    public void ParsesOnlyTheFirstFrame_AndIgnoresWhatFollows()
    {
        byte[] bytes = Hex("0000000C 7758 03 02 00000009 00000008 7758 03 01");
        Assert.True(_parser.TryParse(bytes, out FrameEvent e));
        Assert.Equal(EventType.StreamClose, e.Type);
        Assert.Equal(9u, e.StreamId);
        Assert.Equal(12, e.FrameLength);
        Assert.True(_parser.TryParse(bytes.AsSpan(12), out e));
        Assert.Equal(EventType.Polling, e.Type);
    }

    [Fact]
    public void EmptyFallbackPayload_IsValid()
    {
        Assert.True(_parser.TryParse(Hex("00000010 7758 03 03 00000002 00000001"), out FrameEvent e));
        Assert.Equal(0, e.PayloadLength);
        Assert.Equal(1, e.StreamState);
    }

    [Theory]
    [InlineData("00000008 7758 07 01")]
    [InlineData("00000008 7758 ff 01")]
    [InlineData("00000008 7758 01 01")]
    public void AnyNonZeroVersion_IsAccepted(string hex)
    {
        Assert.True(_parser.TryParse(Hex(hex), out FrameEvent e));
        Assert.Equal(EventType.Polling, e.Type);
    }

    [Theory]
    [InlineData("00000008 7759 03 01", "magic")]
    [InlineData("00000008 0000 03 01", "magic")]
    [InlineData("00000008 7758 00 01", "version 0")]
    [InlineData("00000045 7758 03 00", "handshake frame")]
    [InlineData("00000008 7758 03 04", "handshake frame")]
    [InlineData("00000045 7758 03 05", "handshake frame")]
    [InlineData("00000008 7758 03 06", "handshake frame")]
    [InlineData("00000008 7758 03 07", "handshake frame")]
    [InlineData("00000008 7758 03 0a", "type 10")]
    [InlineData("00000008 7758 03 ff", "type 255")]
    [InlineData("0000000C 7758 03 01", "expected exactly 8")]
    [InlineData("00000004 7758 03 01", "expected exactly 8")]
    [InlineData("0000000D 7758 03 02", "expected exactly 12")]
    [InlineData("00000008 7758 03 02", "expected exactly 12")]
    [InlineData("0000000F 7758 03 03", "at least 16")]
    [InlineData("00000000 7758 03 03", "at least 16")]
    [InlineData("00000011 7758 03 08", "expected exactly 16")]
    [InlineData("00000008 7758 03 09", "expected exactly 16")]
    [InlineData("04000001 7758 03 03", "maximum frame length")]
    [InlineData("80000000 7758 03 03", "maximum frame length")]
    [InlineData("FFFFFFFF 7758 03 03", "maximum frame length")]
    public void HostileHeader_IsProtocolViolation_BeforeTheBodyArrives(string hex, string message)
    {
        // Only the 8 header bytes are given: a bad length must be rejected now, not after buffering a body.
        Throws(ShmipcErrorCode.ProtocolViolation, () => _ = _parser.TryParse(Hex(hex), out _, out _), message);
    }

    [Fact]
    public void MaxFrameLength_IsConfigurable_AndInclusive()
    {
        var parser = new FrameParser(maxFrameLength: 100);
        byte[] frame = new byte[100];
        FallbackDataHeader.Write(frame, 3, 1, 0, new byte[84]);
        Assert.True(parser.TryParse(frame, out FrameEvent e));
        Assert.Equal(84, e.PayloadLength);

        byte[] big = new byte[101];
        FallbackDataHeader.Write(big, 3, 1, 0, new byte[85]);
        Throws(ShmipcErrorCode.ProtocolViolation, () => _ = parser.TryParse(big, out _), "maximum frame length 100");

        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameParser(15));
    }

    [Fact]
    public void Event_ToString_NamesTheFields()
    {
        Assert.True(_parser.TryParse(Hex("00000010 7758 03 08 0000000000000400"), out FrameEvent e));
        Assert.Equal("HotRestart(epoch 1024) v3", e.ToString());
    }
}
