namespace Shmipc.Channels.Sessions;

/// <summary>What the <c>Shmipc</c> meter observes of a session (see <see cref="SessionMetrics"/>).</summary>
internal sealed partial class Session
{
    /// <summary>
    /// The session's slices, shared-memory bytes, queue depths, streams and budget pauses; null once it is closed.
    /// </summary>
    // Design: runs on whatever thread a meter listener collects on. The queue object is unmapped under _sendLock after
    // the state turned Closed (ReleaseResources), and the buffer region is released after that, so reading both under
    // _sendLock after an IsClosed check never touches unmapped memory. Collections are rare (once per second or so),
    // so the lock costs writers nothing measurable.
    public SessionGauges? ReadGauges()
    {
        lock (_sendLock)
        {
            if (IsClosed)
            {
                return null;
            }

            var manager = Buffer.Manager;
            long free = 0, freeBytes = 0;
            for (var i = 0; i < manager.ListCount; i++)
            {
                var list = manager.GetList(i);
                long listFree = Math.Max(0, list.FreeCount);
                free += listFree;
                freeBytes += listFree * list.CapPerBuffer;
            }

            long capacity = manager.CapacityInBytes;
            return new SessionGauges(
                manager.TotalSliceCount - free,
                free,
                capacity,
                capacity - freeBytes,
                Math.Max(0, _sendQueue.Count),
                Math.Max(0, _recvQueue.Count),
                ActiveStreamCount,
                Budget.Pauses);
        }
    }
}
