using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;

namespace Shmipc.Channels.Properties;

/// <content>Property 7: frames and frame-shaped bytes.</content>
public static partial class Generators
{
    private static readonly Gen<byte> Bytes = Gen.Choose(0, 255).Select(b => (byte)b);

    public static Arbitrary<FrameSpec> FrameSpecs() => Arb.From(FrameSpecGen);

    public static Arbitrary<FrameSpec[]> FrameSequences() =>
        Arb.From(Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(FrameSpecGen.Where(f => f.IsDataPhase), n)), ShrinkArray);

    /// <summary>Uniformly random bytes, or a header with the right magic (mostly) and a plausible or hostile length.</summary>
    public static Arbitrary<FrameBytesCase> FrameBytes() =>
        Arb.From(
            from bytes in Gen.Frequency((1, Gen.Choose(0, 64).SelectMany(n => Gen.ArrayOf(Bytes, n))), (3, HeaderShapedBytes), (3, ConsistentFrameBytes))
            from max in Gen.Frequency((2, Gen.Constant(64 * 1024 * 1024)), (1, Gen.Choose(16, 64)), (1, Gen.Choose(16, 1 << 20)))
            select new FrameBytesCase(bytes, max),
            c => ShrinkArray(c.Bytes).Select(b => c with { Bytes = b }));

    private static Gen<FrameSpec> FrameSpecGen { get; } =
        from kind in Gen.Elements(Enum.GetValues<FrameKind>())
        from version in Gen.Frequency((3, Gen.Elements<byte>(2, 3)), (1, Gen.Choose(1, 255).Select(v => (byte)v)))
        from streamId in UInt32s
        from status in Gen.Frequency((3, Gen.Choose(0, 2).Select(s => (uint)s)), (1, UInt32s))
        from epochHigh in UInt32s
        from epochLow in UInt32s
        from payload in Gen.Frequency((1, Gen.Constant(Array.Empty<byte>())), (4, Gen.Choose(0, 300).SelectMany(n => Gen.ArrayOf(Bytes, n))))
        select new FrameSpec(kind, version, streamId, status, ((ulong)epochHigh << 32) | epochLow, payload);

    private static Gen<byte[]> HeaderShapedBytes { get; } =
        from magicOk in Gen.Frequency((5, Gen.Constant(true)), (1, Gen.Constant(false)))
        from magic in Gen.Choose(0, 0xFFFF)
        from version in Gen.Frequency((4, Gen.Choose(1, 3)), (1, Gen.Constant(0)), (1, Gen.Choose(0, 255)))
        from type in Gen.Frequency((6, Gen.Choose(0, 10)), (1, Gen.Choose(0, 255)))
        from length in Gen.Frequency(
            (3, Gen.Elements(8u, 12u, 16u)),
            (3, Gen.Choose(0, 80).Select(x => (uint)x)),
            (1, UInt32s),
            (1, Gen.Choose(-2, 2).Select(d => (uint)((64 * 1024 * 1024) + d))))
        from body in Gen.Choose(0, 96).SelectMany(n => Gen.ArrayOf(Bytes, n))
        select Header(length, magicOk ? (ushort)0x7758 : (ushort)magic, (byte)version, (byte)type, body);

    /// <summary>A well-formed data-phase header (length right for its type), followed by all, more or part of its body.</summary>
    private static Gen<byte[]> ConsistentFrameBytes { get; } =
        from type in Gen.Elements<byte>(1, 2, 3, 8, 9)
        from fallbackLength in Gen.Frequency((3, Gen.Choose(16, 80)), (1, Gen.Choose(16, 2000)))
        let length = type switch { 1 => 8, 2 => 12, 3 => fallbackLength, _ => 16 }
        from version in Gen.Choose(1, 255)
        from bodyLength in Gen.Frequency((3, Gen.Choose(length - 8, length + 24)), (1, Gen.Choose(0, Math.Max(0, length - 9))))
        from body in Gen.ArrayOf(Bytes, bodyLength)
        select Header((uint)length, 0x7758, (byte)version, type, body);

    private static byte[] Header(uint length, ushort magic, byte version, byte type, byte[] body)
    {
        var bytes = new byte[8 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, length);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), magic);
        bytes[6] = version;
        bytes[7] = type;
        body.CopyTo(bytes, 8);
        return bytes;
    }
}
