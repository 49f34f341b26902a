using System.Text;
using System.Text.Json;
using Shmipc.Channels.Protocol;
using Xunit;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>Every data-phase frame captured from shmipc-go decodes to the fields in frames.json and re-encodes to the same bytes.</summary>
public class FrameVectorTests
{
    public static TheoryData<string> FrameFiles()
    {
        var data = new TheoryData<string>();
        using JsonDocument doc = ProtocolVectors.ReadJson("frames", "frames.json");
        foreach (JsonElement entry in doc.RootElement.EnumerateArray())
        {
            data.Add(entry.GetProperty("file").GetString()!);
        }

        return data;
    }

    [Fact]
    public void FramesJson_ListsEveryBinFile()
    {
        using JsonDocument doc = ProtocolVectors.ReadJson("frames", "frames.json");
        string[] listed = doc.RootElement.EnumerateArray().Select(e => Path.GetFileName(e.GetProperty("file").GetString()!)).Order().ToArray();
        string[] onDisk = Directory.GetFiles(ProtocolVectors.PathOf("frames"), "*.bin").Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(onDisk, listed);
        Assert.Equal(14, listed.Length);
    }

    [Theory]
    [MemberData(nameof(FrameFiles))]
    public void GoFrame_DecodesToJsonFields_AndReencodesIdentically(string file)
    {
        JsonElement entry = Entry(file);
        byte[] bytes = ProtocolVectors.Read(file);
        byte version = (byte)entry.GetProperty("version").GetInt32();
        var type = (EventType)entry.GetProperty("type").GetInt32();
        JsonElement decoded = entry.GetProperty("decoded");

        Assert.Equal(entry.GetProperty("length").GetInt32(), bytes.Length);
        Assert.Equal(entry.GetProperty("hex").GetString(), Convert.ToHexString(bytes).ToLowerInvariant());

        Assert.True(FrameHeader.TryRead(bytes, out FrameHeader header));
        Assert.Null(header.GetValidationError());
        Assert.Equal((uint)bytes.Length, header.Length);
        Assert.Equal(ProtocolConstants.Magic, header.Magic);
        Assert.Equal(version, header.Version);
        Assert.Equal(type, header.Type);

        byte[] reencoded = new byte[bytes.Length];
        int written;
        switch (type)
        {
            case EventType.Polling:
                Assert.Equal(header, HeaderOnlyFrame.Read(bytes, EventType.Polling));
                written = HeaderOnlyFrame.Write(reencoded, version, EventType.Polling);
                break;
            case EventType.StreamClose:
                uint id = StreamCloseFrame.Read(bytes);
                Assert.Equal(decoded.GetProperty("stream_id").GetUInt32(), id);
                written = StreamCloseFrame.Write(reencoded, version, id);
                break;
            case EventType.FallbackData:
                FallbackDataHeader meta = FallbackDataHeader.Read(bytes, out ReadOnlySpan<byte> payload);
                Assert.Equal(decoded.GetProperty("stream_id").GetUInt32(), meta.StreamId);
                Assert.Equal(decoded.GetProperty("status").GetUInt32(), meta.Status);
                Assert.Equal(decoded.GetProperty("payload_len").GetInt32(), payload.Length);
                Assert.Equal(decoded.GetProperty("payload_text").GetString(), Encoding.ASCII.GetString(payload));
                Assert.Equal(decoded.GetProperty("payload_sha256").GetString(),
                    Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(payload)).ToLowerInvariant());
                written = FallbackDataHeader.Write(reencoded, version, meta.StreamId, meta.Status, payload);
                break;
            case EventType.HotRestart:
            case EventType.HotRestartAck:
                ulong epoch = HotRestartFrame.Read(bytes, type);
                Assert.Equal(decoded.GetProperty("epoch").GetUInt64(), epoch);
                written = HotRestartFrame.Write(reencoded, version, type, epoch);
                break;
            default:
                throw new Xunit.Sdk.XunitException($"unexpected type {type} in {file}");
        }

        Assert.Equal(bytes.Length, written);
        Assert.Equal(bytes, reencoded);

        // The single-frame file is the frame at stream_offset in the full connection stream.
        byte[] stream = ProtocolVectors.Read(entry.GetProperty("stream_file").GetString()!);
        int offset = entry.GetProperty("stream_offset").GetInt32();
        Assert.Equal(bytes, stream.AsSpan(offset, bytes.Length).ToArray());

        // And the data-phase parser agrees.
        Assert.True(new FrameParser().TryParse(bytes, out FrameEvent e, out int needed));
        Assert.Equal(0, needed);
        Assert.Equal(type, e.Type);
        Assert.Equal(bytes.Length, e.FrameLength);
    }

    private static JsonElement Entry(string file)
    {
        using JsonDocument doc = ProtocolVectors.ReadJson("frames", "frames.json");
        return doc.RootElement.EnumerateArray().Single(e => e.GetProperty("file").GetString() == file).Clone();
    }
}
