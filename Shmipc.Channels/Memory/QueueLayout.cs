using System.Runtime.InteropServices;

namespace Shmipc.Channels.Memory;

/// <summary>
/// The byte layout of one shmipc IO queue (docs/PROTOCOL.md §4.3). The 24-byte header moves with the CPU architecture
/// (shmipc-go <c>mappingQueueFromBytes</c>), so there are two descriptors; both peers on one host share the arch.
/// </summary>
/// <remarks>
/// <code>
/// amd64: [cap u32 @0][head i64 @4][tail i64 @12][workingFlag u32 @20][elements...]   head/tail misaligned (Go layout)
/// arm64: [cap u32 @0][workingFlag u32 @4][head i64 @8][tail i64 @16][elements...]    head/tail 8-aligned
/// element (12 bytes) at HeaderSize + (index mod cap) * 12: [streamId u32 @0][offset u32 @4][status u32 @8]
/// </code>
/// Fixed by the protocol: not padded to cache lines (docs/CONTRIBUTING.md, habit 15).
/// </remarks>
internal readonly record struct QueueLayout
{
    /// <summary>Size of a queue header, both architectures.</summary>
    public const int HeaderSize = 24;

    /// <summary>Size of one queue element.</summary>
    public const int ElementSize = 12;

    /// <summary>u32 stream id inside an element.</summary>
    public const int ElementStreamIdOffset = 0;

    /// <summary>u32 region offset of the first slice header (0 for close elements) inside an element.</summary>
    public const int ElementOffsetOffset = 4;

    /// <summary>u32 status inside an element (low byte: 0 opened/data, 1 closed).</summary>
    public const int ElementStatusOffset = 8;

    /// <summary>u32 element capacity; same offset in both layouts.</summary>
    public const int CapOffset = 0;

    private QueueLayout(string name, int headOffset, int tailOffset, int workingFlagOffset)
    {
        Name = name;
        HeadOffset = headOffset;
        TailOffset = tailOffset;
        WorkingFlagOffset = workingFlagOffset;
    }

    /// <summary>The x86/x64 layout (Go <c>GOARCH</c> other than arm/arm64): head@4, tail@12, flag@20.</summary>
    public static QueueLayout Amd64 { get; } = new("amd64", headOffset: 4, tailOffset: 12, workingFlagOffset: 20);

    /// <summary>The arm/arm64 layout: flag@4, head@8, tail@16.</summary>
    public static QueueLayout Arm64 { get; } = new("arm64", headOffset: 8, tailOffset: 16, workingFlagOffset: 4);

    /// <summary>The layout a shmipc peer on this machine uses (Go's <c>isArmArch()</c>).</summary>
    public static QueueLayout Current { get; } =
        RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? Arm64 : Amd64;

    /// <summary>"amd64" or "arm64", for messages.</summary>
    public string Name { get; }

    /// <summary>i64 consumer index; written only by the consumer.</summary>
    public int HeadOffset { get; }

    /// <summary>i64 producer index; written only by the producer.</summary>
    public int TailOffset { get; }

    /// <summary>u32 working flag; 1 while the consumer drains or a SyncEvent is outstanding.</summary>
    public int WorkingFlagOffset { get; }

    /// <summary>Bytes of one queue of <paramref name="capacity"/> elements: 24 + 12·cap.</summary>
    public static long QueueSize(uint capacity) => HeaderSize + ((long)ElementSize * capacity);

    /// <summary>Bytes of the queue object (two queues back to back): 2·(24 + 12·cap).</summary>
    public static long PairSize(uint capacity) => 2 * QueueSize(capacity);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
