using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The queue floor's child side (<c>pingpong-server --transport queue --file PATH</c>): a thread that pops each request
/// element, checksums the request where it lies, copies it into a reply slice, puts the reply element, then recycles
/// the request's slice: the echo servers' work, through shmipc's shared-memory structures only.
/// </summary>
/// <remarks>Idle between cells: after about a millisecond without a request the thread sleeps 1 ms between looks.</remarks>
internal sealed class QueueFloorServer(QueueFloorLayout layout, EchoStats stats) : EchoThread
{
    protected override string ThreadName => "queue-echo";

    protected override void Run()
    {
        var buffers = layout.Buffers;
        Span<uint> slice = stackalloc uint[1];
        Span<SliceSegment> segments = stackalloc SliceSegment[1];
        while (!Stopping)
        {
            var spins = 0;
            QueueElement request;
            while (!layout.Requests.TryPop(out request))
            {
                if (Stopping)
                {
                    return;
                }

                IdlePause(ref spins);
            }

            if (!buffers.TryReadChain(request.Offset, segments, out var count, out var length) || count != 1)
            {
                stats.Mismatch("queue request (not one slice)", (int)length);
                return;
            }

            var data = buffers.GetSpan(segments[0]);
            if (MessageSet.Verify(data, out _))
            {
                stats.Ok((int)length);
            }
            else
            {
                stats.Mismatch("queue request", (int)length);
            }

            if (!buffers.TryAllocate((int)length, out slice[0]))
            {
                stats.Mismatch("queue reply (no free slice)", (int)length);
                return;
            }

            data.CopyTo(buffers.GetSliceData(slice[0]));
            buffers.CommitChain(slice, length);
            while (!layout.Replies.TryPut(QueueElement.Data(1, slice[0])))
            {
                Thread.SpinWait(1); // holds at most one element at a time: only a corrupt queue is ever full
            }

            // After the reply, as the echo server disposes its request lease after writing the echo.
            buffers.RecycleChain(request.Offset);
        }
    }
}
