using Shmipc.Channels.Protocol;
using Xunit;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>
/// Random and mutated inputs: the decoders either succeed or throw a ProtocolViolation — never another exception,
/// never an out-of-range read.
/// </summary>
public class ProtocolFuzzTests
{
    [Fact]
    public void RandomAndMutatedBytes_OnlyEverYieldProtocolViolation()
    {
        var random = new Random(12345);
        byte[][] seeds = Directory.GetFiles(ProtocolVectors.PathOf("frames"), "*.bin")
            .Concat(Directory.GetFiles(ProtocolVectors.PathOf("handshake"), "*.c2s.bin"))
            .Select(File.ReadAllBytes)
            .ToArray();
        var parser = new FrameParser(maxFrameLength: 4096);

        for (int i = 0; i < 6_000; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[random.Next(0, 64)];
                random.NextBytes(input);
            }
            else
            {
                input = (byte[])seeds[random.Next(seeds.Length)].Clone();
                int flips = random.Next(1, 4);
                for (int f = 0; f < flips && input.Length > 0; f++)
                {
                    input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                }

                input = input.AsSpan(0, random.Next(input.Length + 1)).ToArray();
            }

            Check(() =>
            {
                ReadOnlySpan<byte> rest = input;
                while (parser.TryParse(rest, out FrameEvent e))
                {
                    Assert.InRange(e.FrameLength, 8, rest.Length);
                    _ = e.GetPayload(rest);
                    rest = rest[e.FrameLength..];
                }
            });
            Check(() => ShareMemoryAnnouncement.Read(input));
            Check(() => ShareMemoryAnnouncement.ReadBody(input));
            Check(() => StreamCloseFrame.Read(input));
            Check(() => FallbackDataHeader.Read(input, out _));
            Check(() => HotRestartFrame.Read(input, EventType.HotRestart));
            Check(() => HeaderOnlyFrame.Read(input, EventType.Polling));
        }
    }

    private static void Check(Action decode)
    {
        try
        {
            decode();
        }
        catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.ProtocolViolation)
        {
        }
    }
}
