using System.Collections.Concurrent;
using Shmipc.Channels.Tests.Peer;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>Ping-pong loops over a client pool: take a stream, one verified round trip, give it back; counts and failures.</summary>
internal sealed class PoolLoad
{
    private const int Size = 512;
    private long _completed;
    private volatile bool _stop;

    public long Completed => Interlocked.Read(ref _completed);

    public ConcurrentQueue<string> Failures { get; } = new();

    public void Stop() => _stop = true;

    public async Task RunAsync(ShmipcClientPool pool, uint loop, CancellationToken cancellationToken)
    {
        await Task.Yield();
        for (uint i = 0; !_stop; i++)
        {
            var seed = (loop << 24) ^ i;
            try
            {
                var stream = await pool.GetStreamAsync(cancellationToken);
                await stream.WriteAsync(PayloadPattern.Create(Size, seed), cancellationToken);
                using (var reply = await stream.Input.ReadAsync(cancellationToken))
                {
                    Messages.Verify(reply.Data, Size, seed, $"loop {loop} request {i}");
                }

                pool.Return(stream);
                Interlocked.Increment(ref _completed);
            }
            catch (Exception e)
            {
                Failures.Enqueue($"loop {loop} request {i}: {e.GetType().Name}: {e.Message} {e.InnerException?.Message}");
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> more requests have completed.</summary>
    public Task WaitForMoreAsync(long count, TimeSpan timeout)
    {
        var target = Completed + count;
        return Messages.EventuallyAsync(() => Completed >= target, timeout, $"{count} more requests");
    }
}
