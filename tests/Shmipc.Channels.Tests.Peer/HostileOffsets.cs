using Shmipc.Channels.Memory;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>
/// <c>hostile-offsets --kind K</c>: a valid handshake, then one data element whose chain is corrupt, and a Polling
/// frame: <c>beyond-region</c> (offset past the mapping), <c>inside-slice</c> (an offset in a slice's data area),
/// <c>loop</c> (two slices linked to each other) or <c>size-over-cap</c> (a slice claiming more bytes than it holds).
/// </summary>
internal static unsafe class HostileOffsets
{
    private const uint StreamId = 2;

    public static int Run(PeerArguments args)
    {
        using var raw = RawClientSession.Connect(args.SocketPath);
        Console.WriteLine($"READY {raw.Name} v{raw.Version}");
        var offset = Prepare(raw, args.Kind);
        raw.PutAndWake(QueueElement.Data(StreamId, offset));
        Console.WriteLine($"SENT {args.Kind} offset={offset}");
        Console.WriteLine($"SERVER-CLOSED {raw.WaitForServerClose(TimeSpan.FromSeconds(10))}");
        return 0;
    }

    private static uint Prepare(RawClientSession raw, string kind)
    {
        var manager = raw.Manager;
        var b = raw.BufferRegion.Base;
        switch (kind)
        {
            case "beyond-region":
                return (uint)raw.BufferRegion.Length + 4096;
            case "inside-slice":
            {
                var slice = Allocate(manager, 64);
                manager.SetSliceLength(slice, 64);
                return slice + SliceHeaderSize + 8;
            }

            case "loop":
            {
                var first = Allocate(manager, 16);
                var second = Allocate(manager, 16);
                manager.SetSliceLength(first, 16);
                manager.SetSliceLength(second, 16);
                manager.LinkChain([first, second]);

                // Close the ring: the second slice points back at the first.
                *(uint*)(b + second + SliceNextOffset) = first;
                b[second + SliceFlagsOffset] |= SliceFlagHasNext;
                return first;
            }

            case "size-over-cap":
            {
                var slice = Allocate(manager, 16);
                var cap = *(uint*)(b + slice + SliceCapOffset);
                *(uint*)(b + slice + SliceSizeOffset) = cap + 1;
                *(uint*)(b + slice + SliceStartOffset) = 0;
                b[slice + SliceFlagsOffset] &= unchecked((byte)~SliceFlagHasNext);
                return slice;
            }

            default:
                throw new ArgumentException($"unknown offsets kind '{kind}' (beyond-region, inside-slice, loop, size-over-cap)");
        }
    }

    private static uint Allocate(BufferManager manager, int size) =>
        manager.TryAllocate(size, out var offset) ? offset : throw new InvalidOperationException("the fresh region has no free slice");
}
