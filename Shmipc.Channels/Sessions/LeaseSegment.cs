using System.Buffers;

namespace Shmipc.Channels.Sessions;

/// <summary>A reusable link of a multi-slice <see cref="ReadOnlySequence{T}"/>.</summary>
internal sealed class LeaseSegment : ReadOnlySequenceSegment<byte>
{
    public void Set(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
        Next = null;
    }

    public void Link(LeaseSegment next) => Next = next;

    public void Clear()
    {
        Memory = default;
        Next = null;
        RunningIndex = 0;
    }
}
