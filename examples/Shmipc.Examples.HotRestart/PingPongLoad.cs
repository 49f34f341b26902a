using System.Buffers;
using System.Text;
using Shmipc.Channels;

namespace Shmipc.Examples.HotRestart;

/// <summary>Steady load: each loop takes a stream from the pool, sends a request, awaits the echo, gives the stream back.</summary>
internal sealed class PingPongLoad(int streams)
{
    private long _completed;
    private long _failures;
    private volatile bool _stop;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failures => Interlocked.Read(ref _failures);

    public string? FirstFailure { get; private set; }

    public Task Start(ShmipcClientPool pool) => Task.WhenAll(Enumerable.Range(0, streams).Select(i => Task.Run(() => LoopAsync(pool, i))));

    public void Stop() => _stop = true;

    /// <summary>Waits until <paramref name="count"/> more requests have completed.</summary>
    public async Task WaitForRequestsAsync(long count)
    {
        var target = Completed + count;
        while (Completed < target && !_stop)
        {
            await Task.Delay(10);
        }
    }

    private async Task LoopAsync(ShmipcClientPool pool, int loop)
    {
        for (var i = 0; !_stop; i++)
        {
            var request = Encoding.ASCII.GetBytes($"request {i} of loop {loop}");
            try
            {
                var stream = await pool.GetStreamAsync();
                await stream.WriteAsync(request);
                using (var reply = await stream.Input.ReadAsync())
                {
                    if (!reply.Data.ToArray().AsSpan().SequenceEqual(request))
                    {
                        throw new InvalidOperationException("the reply is not the echo of the request");
                    }
                }

                pool.Return(stream);
                Interlocked.Increment(ref _completed);
            }
            catch (Exception e)
            {
                if (Interlocked.Increment(ref _failures) == 1)
                {
                    FirstFailure = $"{e.GetType().Name}: {e.Message}";
                }

                await Task.Delay(10);
            }
        }
    }
}
