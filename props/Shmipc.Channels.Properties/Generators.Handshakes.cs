using FsCheck;
using FsCheck.Fluent;
using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Properties;

/// <content>Hostile handshakes: a client's first bytes, well-formed, truncated, mutated or random.</content>
public static partial class Generators
{
    public static Arbitrary<HandshakeInputCase> HandshakeInputs() => Arb.From(
        from version in Gen.Elements<byte>(2, 3)
        from memfd in Gen.Elements(false, true)
        from queue in Gen.Choose(0, 300).Select(n => "/dev/shm/q" + new string('q', n))
        from buffer in Gen.Choose(0, 300).Select(n => "/dev/shm/b" + new string('b', n))
        from shape in Gen.Frequency((1, Gen.Constant("well-formed")), (3, Gen.Constant("truncated")), (4, Gen.Constant("mutated")), (2, Gen.Constant("random")))
        from cut in Gen.Choose(0, 1000)
        from flipAt in Gen.Choose(0, 1000)
        from flipWith in Gen.Choose(1, 255)
        from random in Gen.Choose(0, 64).SelectMany(n => Gen.ArrayOf(Bytes, n))
        select Build(version, memfd, queue, buffer, shape, cut, flipAt, (byte)flipWith, random));

    private static HandshakeInputCase Build(byte version, bool memfd, string queue, string buffer, string shape, int cut, int flipAt, byte flipWith, byte[] random)
    {
        if (shape == "random")
        {
            return new HandshakeInputCase(random, shape);
        }

        var announcement = new ShareMemoryAnnouncement(queue, buffer);
        var frame = new byte[announcement.GetFrameLength()];
        announcement.Write(frame, version, version == 2 || !memfd ? EventType.ShareMemoryByFilePath : EventType.ShareMemoryByMemfd);
        byte[] bytes;
        if (version == 2)
        {
            bytes = frame;
        }
        else
        {
            bytes = new byte[ProtocolConstants.HeaderSize + frame.Length];
            HeaderOnlyFrame.Write(bytes, version, EventType.ExchangeProtoVersion);
            frame.CopyTo(bytes, ProtocolConstants.HeaderSize);
        }

        switch (shape)
        {
            case "truncated":
                bytes = bytes[..(cut % bytes.Length)];
                break;
            case "mutated":
                bytes[flipAt % bytes.Length] ^= flipWith;
                break;
        }

        return new HandshakeInputCase(bytes, $"{shape} v{version} {(memfd ? "memfd" : "file")}");
    }
}
