using System.Buffers;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>Writes bytes into a write lease, asking for at most <c>maxChunk</c> bytes per <see cref="ShmLease.GetSpan"/>.</summary>
/// <remarks>
/// A size hint larger than the largest slice class would move the message to the heap (socket fallback), so the caller
/// passes a chunk no larger than a slice it knows exists: the single class size on the client, the largest segment of
/// the request on the server (each request segment came from a slice at least that large).
/// </remarks>
internal static class LeaseIo
{
    public static void Write(ShmLease lease, ReadOnlySpan<byte> data, int maxChunk)
    {
        while (!data.IsEmpty)
        {
            var span = lease.GetSpan(Math.Min(data.Length, maxChunk));
            var n = Math.Min(span.Length, data.Length);
            data[..n].CopyTo(span);
            lease.Advance(n);
            data = data[n..];
        }
    }

    public static void Write(ShmLease lease, in ReadOnlySequence<byte> data, int maxChunk)
    {
        foreach (var segment in data)
        {
            Write(lease, segment.Span, maxChunk);
        }
    }

    /// <summary>
    /// A lease of <paramref name="stream"/> holding a copy of <paramref name="data"/> (an echo of a request: chunks no larger
    /// than the request's largest segment); the lease is returned if the copy fails.
    /// </summary>
    public static ShmLease RentCopy(ShmipcStream stream, in ReadOnlySequence<byte> data)
    {
        var lease = stream.Rent();
        try
        {
            Write(lease, data, LargestSegment(data));
            return lease;
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>The longest segment of <paramref name="data"/>.</summary>
    public static int LargestSegment(in ReadOnlySequence<byte> data)
    {
        var max = 0;
        foreach (var segment in data)
        {
            max = Math.Max(max, segment.Length);
        }

        return max;
    }
}
