using Shmipc.Channels;

namespace Shmipc.Reactive.Tests.TestSupport;

/// <summary>
/// Counts the free slices of the client's region from outside, with public signals only: writes messages of one slice
/// each on a fresh stream while the server holds them unread, until one falls back to the socket
/// (<see cref="ShmipcSession.FallbackWriteCount"/> moves); then releases everything. A lease leaked by earlier code
/// shows up as a smaller count.
/// </summary>
public static class SliceProbe
{
    public static async Task<int> CountFreeSlicesAsync(SessionPair pair, CancellationToken ct, int messageSize = 8000)
    {
        var payload = new byte[messageSize];
        var fallbackBefore = pair.Client.FallbackWriteCount;
        var stream = pair.Client.OpenStream();
        var written = 0;
        while (pair.Client.FallbackWriteCount == fallbackBefore)
        {
            await stream.WriteAsync(payload, ct);
            written++;
            if (written > 10_000)
            {
                throw new InvalidOperationException("shared memory never ran out");
            }
        }

        var accepted = await pair.AcceptAsync(stream, ct);
        var held = new List<ShmLease>();
        try
        {
            for (var i = 0; i < written; i++)
            {
                held.Add(await accepted.Input.ReadAsync(ct));
            }
        }
        finally
        {
            foreach (var lease in held)
            {
                lease.Dispose();
            }

            stream.Dispose();
            accepted.Dispose();
        }

        return written - 1;
    }
}
