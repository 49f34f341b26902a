using System.Buffers.Binary;
using Shmipc.Channels.Protocol;
using Xunit;
using static Shmipc.Channels.Tests.Protocol.ProtocolAssert;

namespace Shmipc.Channels.Tests.Protocol;

public class PayloadCodecTests
{
    // §2.2 example: v2, queue /dev/shm/shmipc_42_queue_0 (26 B), buffer /dev/shm/shmipc_42_buffer (25 B).
    private static readonly byte[] s_docExample = Hex("0000003F 7758 02 00 001A")
        .Concat("/dev/shm/shmipc_42_queue_0"u8.ToArray()).Concat(Hex("0019")).Concat("/dev/shm/shmipc_42_buffer"u8.ToArray()).ToArray();

    [Fact]
    public void ShareMemory_EncodesTheDocExample()
    {
        var a = new ShareMemoryAnnouncement("/dev/shm/shmipc_42_queue_0", "/dev/shm/shmipc_42_buffer");
        Assert.Equal(63, a.GetFrameLength());
        byte[] frame = new byte[63];
        Assert.Equal(63, a.Write(frame, 2, EventType.ShareMemoryByFilePath));
        Assert.Equal(s_docExample, frame);
        Assert.Equal(a, ShareMemoryAnnouncement.Read(frame));
    }

    [Theory]
    [InlineData("v2_file.c2s.bin", 0, 2, 0)]
    [InlineData("v2_file_hotrestart_epoch.c2s.bin", 0, 2, 0)]
    [InlineData("v3_memfd.c2s.bin", 8, 3, 5)]
    [InlineData("v3_memfd_hotrestart_epoch.c2s.bin", 8, 3, 5)]
    public void ShareMemory_GoHandshakeFrames_DecodeAndReencode(string file, int offset, byte version, byte typeCode)
    {
        var type = (EventType)typeCode;
        byte[] all = ProtocolVectors.Read("handshake", file);
        FrameHeader header = FrameHeader.Read(all.AsSpan(offset));
        byte[] frame = all.AsSpan(offset, (int)header.Length).ToArray();
        (string queue, string buffer) = ProtocolVectors.HandshakePaths(Path.GetFileName(file).Split('.')[0]);

        ShareMemoryAnnouncement a = ShareMemoryAnnouncement.Read(frame);
        Assert.Equal(queue, a.QueuePath);
        Assert.Equal(buffer, a.BufferPath);
        Assert.Equal(version, header.Version);
        Assert.Equal(type, header.Type);

        byte[] again = new byte[frame.Length];
        a.Write(again, version, type);
        Assert.Equal(frame, again);
    }

    [Fact]
    public void ShareMemory_RoundTripsUtf8()
    {
        var a = new ShareMemoryAnnouncement("/dev/shm/é_queue", "/dev/shm/日本_buffer");
        byte[] frame = new byte[a.GetFrameLength()];
        a.Write(frame, 3, EventType.ShareMemoryByMemfd);
        Assert.Equal(a, ShareMemoryAnnouncement.Read(frame));
    }

    public static TheoryData<string, byte[]> HostileBodies() => new()
    {
        { "body < 4", Hex("0001 41") },
        { "queue length past body", Hex("0010 41 0001 42") },
        { "buffer length field missing", Hex("0001 41 00") },
        { "buffer length past body", Hex("0001 41 0005 42") },
        { "trailing bytes", Hex("0001 41 0001 42 00") },
        { "empty queue path", Hex("0000 0001 42") },
        { "empty buffer path", Hex("0001 41 0000") },
        { "NUL in path", Hex("0002 4100 0001 42") },
        { "invalid UTF-8", Hex("0002 c328 0001 42") },
        { "length 65535", Hex("ffff 41 0001 42") },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public void ShareMemory_HostileBody_IsProtocolViolation(string what, byte[] body)
    {
        _ = what;
        Throws(ShmipcErrorCode.ProtocolViolation, () => ShareMemoryAnnouncement.ReadBody(body));

        byte[] frame = new byte[8 + body.Length];
        new FrameHeader((uint)frame.Length, 2, EventType.ShareMemoryByFilePath).Write(frame);
        body.CopyTo(frame, 8);
        Throws(ShmipcErrorCode.ProtocolViolation, () => ShareMemoryAnnouncement.Read(frame));
    }

    [Fact]
    public void ShareMemory_PathOfMaxLength_IsAccepted_AndOneMoreIsNot()
    {
        string max = "/" + new string('a', ProtocolConstants.MaxPathLength - 1);
        var a = new ShareMemoryAnnouncement(max, max);
        Assert.Equal(ProtocolConstants.MaxShareMemoryFrameLength, a.GetFrameLength());
        byte[] frame = new byte[a.GetFrameLength()];
        a.Write(frame, 3, EventType.ShareMemoryByFilePath);
        Assert.Equal(a, ShareMemoryAnnouncement.Read(frame));

        Assert.Throws<ArgumentException>(() => new ShareMemoryAnnouncement(max + "a", "/b").GetFrameLength());

        byte[] body = new byte[4 + 4097 + 1];
        BinaryPrimitives.WriteUInt16BigEndian(body, 4097);
        body.AsSpan(2, 4097).Fill((byte)'a');
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2 + 4097), 1);
        body[^1] = (byte)'b';
        Throws(ShmipcErrorCode.ProtocolViolation, () => ShareMemoryAnnouncement.ReadBody(body), "at most 4096");
    }

    [Theory]
    [InlineData(11u)]
    [InlineData(8u)]
    [InlineData(0u)]
    [InlineData(ProtocolConstants.MaxShareMemoryFrameLength + 1u)]
    [InlineData(0x8000_0000u)]
    public void ShareMemory_FrameLengthOutOfBounds_IsRejectedFromTheHeader(uint length)
    {
        Throws(ShmipcErrorCode.ProtocolViolation, () => ShareMemoryAnnouncement.ValidateFrameLength(length));
        byte[] frame = new byte[64];
        new FrameHeader(length, 2, EventType.ShareMemoryByFilePath).Write(frame);
        Throws(ShmipcErrorCode.ProtocolViolation, () => ShareMemoryAnnouncement.Read(frame));
    }

    [Fact]
    public void ShareMemory_WrongTypeOrTruncatedFrame_IsRejected()
    {
        byte[] frame = (byte[])s_docExample.Clone();
        frame[7] = 3;
        Throws(ShmipcErrorCode.ProtocolViolation, () => ShareMemoryAnnouncement.Read(frame), "expected 0 or 5");
        Throws(ShmipcErrorCode.ProtocolViolation, () => ShareMemoryAnnouncement.Read(s_docExample.AsSpan(0, 62)), "only 62 bytes");
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\0b")]
    public void ShareMemory_EncoderRejectsBadPaths(string path)
    {
        Assert.ThrowsAny<ArgumentException>(() => new ShareMemoryAnnouncement(path, "/b").GetFrameLength());
        Assert.ThrowsAny<ArgumentException>(() => new ShareMemoryAnnouncement("/q", path).Write(new byte[100], 2, EventType.ShareMemoryByFilePath));
    }

    [Fact]
    public void ShareMemory_EncoderRejectsLoneSurrogate()
    {
        string path = "/dev/shm/" + (char)0xD800;
        Assert.ThrowsAny<ArgumentException>(() => new ShareMemoryAnnouncement(path, "/b").GetFrameLength());
    }

    [Fact]
    public void ShareMemory_EncoderRejectsSmallDestinationAndWrongType()
    {
        var a = new ShareMemoryAnnouncement("/q", "/b");
        Assert.Throws<ArgumentException>(() => a.Write(new byte[15], 2, EventType.ShareMemoryByFilePath));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Write(new byte[16], 2, EventType.Polling));
    }

    [Fact]
    public void StreamClose_DocExample_RoundTrips()
    {
        byte[] expected = Hex("0000000C 7758 03 02 00000007");
        byte[] frame = new byte[12];
        Assert.Equal(12, StreamCloseFrame.Write(frame, 3, 7));
        Assert.Equal(expected, frame);
        Assert.Equal(7u, StreamCloseFrame.Read(frame));
    }

    [Theory]
    [InlineData("0000000D 7758 03 02 00000007 00", "expected exactly 12")]
    [InlineData("0000000B 7758 03 02 000000", "expected exactly 12")]
    [InlineData("0000000C 7758 03 03 00000007", "expected 2")]
    [InlineData("0000000C 7758 03 02 000000", "11 bytes given")]
    public void StreamClose_Hostile_IsProtocolViolation(string hex, string message)
    {
        Throws(ShmipcErrorCode.ProtocolViolation, () => StreamCloseFrame.Read(Hex(hex)), message);
    }

    [Fact]
    public void FallbackData_DocExample_RoundTrips()
    {
        byte[] expected = Hex("00000012 7758 03 03 00000002 00000000 6869");
        byte[] frame = new byte[18];
        Assert.Equal(18, FallbackDataHeader.Write(frame, 3, 2, 0, "hi"u8));
        Assert.Equal(expected, frame);
        FallbackDataHeader h = FallbackDataHeader.Read(frame, out ReadOnlySpan<byte> payload);
        Assert.Equal(new FallbackDataHeader(2, 0), h);
        Assert.Equal("hi"u8.ToArray(), payload.ToArray());

        byte[] header = new byte[16];
        FallbackDataHeader.WriteHeader(header, 3, 2, 0, 2);
        Assert.Equal(expected.AsSpan(0, 16).ToArray(), header);
    }

    [Fact]
    public void FallbackData_StreamState_IsTheLowByteOfStatus()
    {
        byte[] frame = Hex("00000010 7758 03 03 00000002 ABCDEF01");
        FallbackDataHeader h = FallbackDataHeader.Read(frame, out ReadOnlySpan<byte> payload);
        Assert.Equal(0xABCDEF01u, h.Status);
        Assert.Equal(1, h.StreamState);
        Assert.True(payload.IsEmpty);
    }

    [Theory]
    [InlineData("0000000F 7758 03 03 00000002 000000", "at least 16")]
    [InlineData("00000008 7758 03 03", "at least 16")]
    [InlineData("00000014 7758 03 03 00000002 00000000 6869", "only 18 bytes")]
    [InlineData("00000012 7758 03 02 00000002 00000000 6869", "expected 3")]
    public void FallbackData_Hostile_IsProtocolViolation(string hex, string message)
    {
        Throws(ShmipcErrorCode.ProtocolViolation, () => FallbackDataHeader.Read(Hex(hex), out _), message);
    }

    [Fact]
    public void HotRestart_DocExample_RoundTrips()
    {
        byte[] frame = new byte[16];
        Assert.Equal(16, HotRestartFrame.Write(frame, 3, EventType.HotRestart, 1024));
        Assert.Equal(Hex("00000010 7758 03 08 0000000000000400"), frame);
        Assert.Equal(1024ul, HotRestartFrame.Read(frame, EventType.HotRestart));
        Throws(ShmipcErrorCode.ProtocolViolation, () => HotRestartFrame.Read(frame, EventType.HotRestartAck), "expected 9");

        HotRestartFrame.Write(frame, 2, EventType.HotRestartAck, ulong.MaxValue);
        Assert.Equal(ulong.MaxValue, HotRestartFrame.Read(frame, EventType.HotRestartAck));
        Assert.Throws<ArgumentOutOfRangeException>(() => HotRestartFrame.Write(frame, 2, EventType.Polling, 1));
    }

    [Theory]
    [InlineData("0000000F 7758 03 08 00000000000004")]
    [InlineData("00000011 7758 03 08 0000000000000400 00")]
    [InlineData("00000010 7758 03 08 00000000000004")]
    public void HotRestart_WrongLength_IsProtocolViolation(string hex)
    {
        Throws(ShmipcErrorCode.ProtocolViolation, () => HotRestartFrame.Read(Hex(hex), EventType.HotRestart));
    }

    [Theory]
    [InlineData(1, "00000008 7758 03 01")]
    [InlineData(4, "00000008 7758 03 04")]
    [InlineData(6, "00000008 7758 03 06")]
    [InlineData(7, "00000008 7758 03 07")]
    public void HeaderOnly_RoundTrips(byte typeCode, string hex)
    {
        var type = (EventType)typeCode;
        byte[] frame = new byte[8];
        Assert.Equal(8, HeaderOnlyFrame.Write(frame, 3, type));
        Assert.Equal(Hex(hex), frame);
        Assert.Equal(type, HeaderOnlyFrame.Read(frame, type).Type);
    }

    [Fact]
    public void HeaderOnly_RejectsLengthAndTypeMismatch()
    {
        Throws(ShmipcErrorCode.ProtocolViolation, () => HeaderOnlyFrame.Read(Hex("0000000C 7758 03 01 00000000"), EventType.Polling), "expected exactly 8");
        Throws(ShmipcErrorCode.ProtocolViolation, () => HeaderOnlyFrame.Read(Hex("00000008 7758 03 06"), EventType.AckReadyRecvFD), "expected 7");
        Assert.Throws<ArgumentOutOfRangeException>(() => HeaderOnlyFrame.Write(new byte[8], 3, EventType.StreamClose));
    }
}
