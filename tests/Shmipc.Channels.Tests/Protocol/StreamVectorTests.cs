using System.Text;
using Shmipc.Channels.Protocol;
using Xunit;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>
/// The complete data-phase byte streams captured from shmipc-go (vectors/streams) parse into exactly the frame
/// sequences listed in the vectors README, whole and in random-sized chunks.
/// </summary>
public class StreamVectorTests
{
    private const string Request = "fallback-request: stream 6, 48 bytes payload!!";
    private const string Reply = "fallback-reply from server";

    public static TheoryData<string, int> Streams() => new()
    {
        { "A_file_v2_default.conn0.c2s.bin", 69 },
        { "A_file_v2_default.conn0.s2c.bin", 0 },
        { "B_file_v2_small.conn0.c2s.bin", 69 },
        { "B_file_v2_small.conn0.s2c.bin", 0 },
        // C c2s: ExchangeProtoVersion [0,8), ShareMemoryByMemfd [8,77), the SCM_RIGHTS dummy byte at 77.
        { "C_memfd_v3_small.conn0.c2s.bin", 78 },
        { "C_memfd_v3_small.conn0.s2c.bin", 24 },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void GoStream_ParsesIntoTheReadmeSequence(string file, int handshakeBytes)
    {
        byte[] data = ProtocolVectors.Read("streams", file).AsSpan(handshakeBytes).ToArray();
        List<Parsed> actual = ParseWhole(data);
        Assert.Equal(Expected(file), actual);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void GoStream_InRandomChunks_ParsesIntoTheSameSequence(string file, int handshakeBytes)
    {
        byte[] data = ProtocolVectors.Read("streams", file).AsSpan(handshakeBytes).ToArray();
        List<Parsed> expected = Expected(file);
        for (int seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            Assert.Equal(expected, ParseChunked(data, () => random.Next(1, 20)));
        }

        // One byte at a time: every frame is partial many times over.
        Assert.Equal(expected, ParseChunked(data, () => 1));
    }

    [Fact]
    public void HandshakeSkipOffsets_MatchTheReadme()
    {
        byte[] c2s = ProtocolVectors.Read("streams", "C_memfd_v3_small.conn0.c2s.bin");
        Assert.Equal(0x00, c2s[77]);
        Assert.Equal(ProtocolVectors.Read("handshake", "v3_memfd.c2s.bin"), c2s.AsSpan(0, 78).ToArray());
        Assert.Equal(ProtocolVectors.Read("handshake", "v3_memfd.s2c.bin"), ProtocolVectors.Read("streams", "C_memfd_v3_small.conn0.s2c.bin").AsSpan(0, 24).ToArray());
        Assert.Equal(ProtocolVectors.Read("handshake", "v2_file.c2s.bin"), ProtocolVectors.Read("streams", "A_file_v2_default.conn0.c2s.bin").AsSpan(0, 69).ToArray());
    }

    private static List<Parsed> Expected(string file)
    {
        byte v = file.StartsWith('C') ? (byte)3 : (byte)2;
        Parsed polling = new(EventType.Polling, v, 0, 0, 0, "");
        return file switch
        {
            "A_file_v2_default.conn0.c2s.bin" => [polling, polling],
            "A_file_v2_default.conn0.s2c.bin" => [polling],
            "B_file_v2_small.conn0.c2s.bin" or "C_memfd_v3_small.conn0.c2s.bin" =>
            [
                polling,
                polling,
                new(EventType.StreamClose, v, 4, 0, 0, ""),
                polling,
                new(EventType.FallbackData, v, 6, 0, 0, Request),
                new(EventType.HotRestartAck, v, 0, 0, 1024, ""),
            ],
            "B_file_v2_small.conn0.s2c.bin" or "C_memfd_v3_small.conn0.s2c.bin" =>
            [
                polling,
                new(EventType.FallbackData, v, 6, 0, 0, Reply),
                new(EventType.HotRestart, v, 0, 0, 1024, ""),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(file)),
        };
    }

    private static List<Parsed> ParseWhole(byte[] data)
    {
        var parser = new FrameParser();
        var result = new List<Parsed>();
        ReadOnlySpan<byte> rest = data;
        while (parser.TryParse(rest, out FrameEvent e))
        {
            result.Add(Parsed.From(e, rest));
            rest = rest[e.FrameLength..];
        }

        Assert.Equal(0, rest.Length);
        return result;
    }

    private static List<Parsed> ParseChunked(byte[] data, Func<int> nextChunk)
    {
        var parser = new FrameParser();
        var result = new List<Parsed>();
        using var buffer = new ReceiveBuffer(initialCapacity: 16, shrinkThreshold: 16);
        int position = 0;
        while (position < data.Length)
        {
            int chunk = Math.Min(nextChunk(), data.Length - position);
            Span<byte> free = buffer.GetWriteSpan(chunk);
            data.AsSpan(position, chunk).CopyTo(free);
            buffer.Advance(chunk);
            position += chunk;

            while (parser.TryParse(buffer.Readable, out FrameEvent e, out int needed))
            {
                Assert.Equal(0, needed);
                result.Add(Parsed.From(e, buffer.Readable));
                buffer.Consume(e.FrameLength);
            }
        }

        Assert.Equal(0, buffer.ReadableLength);
        return result;
    }

    private sealed record Parsed(EventType Type, byte Version, uint StreamId, uint Status, ulong Epoch, string Payload)
    {
        public static Parsed From(FrameEvent e, ReadOnlySpan<byte> buffer) =>
            new(e.Type, e.Version, e.StreamId, e.Status, e.Epoch, Encoding.ASCII.GetString(e.GetPayload(buffer)));
    }
}
