using System.Threading.Channels;
using Shmipc.Channels.Channels;
using Xunit;

namespace Shmipc.Channels.Tests.Channels;

/// <summary>
/// The channel-level regression for dotnet/runtime#132094: readers whose tokens keep firing while a writer hands them
/// items must, through <see cref="LosslessRead"/>, still receive every item exactly once.
/// </summary>
public sealed class LosslessReadTests
{
    [Fact]
    public async Task Reads_cancelled_while_items_arrive_lose_nothing()
    {
        const int Items = 200_000;
        var channel = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // A second thread cancels the reader's current token over and over; GC pressure widens the window. Its own
        // thread, started before the writer: queued on a busy thread pool it once began only after all 200 000 items
        // had been read, and the test proved nothing.
        CancellationTokenSource? current = null;
        using var cancellerStop = new CancellationTokenSource();
        var cancellerRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var canceller = Task.Factory.StartNew(
            () =>
            {
                cancellerRunning.SetResult();
                var spins = 0;
                while (!cancellerStop.IsCancellationRequested)
                {
                    Volatile.Read(ref current)?.Cancel();
                    if (++spins % 1000 == 0)
                    {
                        GC.Collect(0);
                    }

                    Thread.SpinWait(20);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await cancellerRunning.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The writer trickles items so the reader is often parked when one arrives, which is when the race bites.
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < Items; i++)
            {
                channel.Writer.TryWrite(i);
                if ((i & 63) == 0)
                {
                    await Task.Yield();
                }
            }

            channel.Writer.Complete();
        });

        var received = 0;
        long sum = 0;
        var cancelled = 0;
        try
        {
            while (true)
            {
                stop.Token.ThrowIfCancellationRequested();
                // Not disposed: the canceller may still cancel it after this read ended (a CTS without a timer owns nothing).
                var cts = new CancellationTokenSource();
                Volatile.Write(ref current, cts);
                int item;
                try
                {
                    item = await LosslessRead.ReadAsync(channel.Reader, cts.Token);
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                    continue;
                }
                catch (ChannelClosedException)
                {
                    break;
                }

                Assert.Equal(received, item);
                received++;
                sum += item;
            }
        }
        finally
        {
            cancellerStop.Cancel();
            await canceller;
        }

        await writer;
        Assert.Equal(Items, received);
        Assert.Equal((long)Items * (Items - 1) / 2, sum);
        Assert.True(cancelled > 0, "the canceller never cancelled a read, so the test proved nothing");
    }
}
