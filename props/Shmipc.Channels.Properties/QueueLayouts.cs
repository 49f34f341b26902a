using System.Runtime.InteropServices;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

/// <summary>Layout selection for the queue properties.</summary>
internal static unsafe class QueueLayouts
{
    public static QueueLayout Of(bool arm64) => arm64 ? QueueLayout.Arm64 : QueueLayout.Amd64;

    /// <summary>
    /// x86/x64 run both layouts (the amd64 one has misaligned head/tail, which lock-prefixed operations
    /// tolerate); elsewhere head and tail must be 8-aligned or Create/Map refuse the queue.
    /// </summary>
    public static bool IsUsable(QueueLayout layout, byte* queueAddress) =>
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86
        || (((nuint)(queueAddress + layout.HeadOffset) % 8 == 0) && ((nuint)(queueAddress + layout.TailOffset) % 8 == 0));

    /// <summary>
    /// True when the 8-byte head or tail of a queue at <paramref name="queueAddress"/> crosses a 64-byte line: every
    /// Interlocked operation on it is then a split lock (trapped by this host's kernel, ~1 ms each, see the report
    /// in IoQueueModelProperties). Only the amd64 layout (head@4, tail@12) can do this.
    /// </summary>
    public static bool StraddlesCacheLine(QueueLayout layout, byte* queueAddress) =>
        Straddles(queueAddress + layout.HeadOffset) || Straddles(queueAddress + layout.TailOffset);

    private static bool Straddles(byte* field) => ((nuint)field % NativeBuffer.CacheLine) > NativeBuffer.CacheLine - 8;
}
