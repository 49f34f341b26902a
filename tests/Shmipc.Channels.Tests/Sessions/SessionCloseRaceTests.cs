using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// Closing a session while its streams write (through shared memory and over the socket) and read: every API call
/// either succeeds or fails with a documented exception, never a raw ObjectDisposedException or the like; and every
/// slice comes back to the free lists (<see cref="SessionAccounting"/>), whatever the close interrupted.
/// </summary>
/// <remarks>
/// The races are timing-dependent: <c>SHMIPC_CLOSE_RACE_ROUNDS</c> runs more rounds (and stretches the time bound with
/// them) to hunt one locally; CI runs the default.
/// </remarks>
public sealed class SessionCloseRaceTests : IAsyncLifetime
{
    private const int DefaultRounds = 120;

    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private readonly SessionAccounting _accounting = new();

    private static int Rounds =>
        int.TryParse(Environment.GetEnvironmentVariable("SHMIPC_CLOSE_RACE_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : DefaultRounds;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();

    [Fact]
    public async Task DisposeAsync_RacingWritersAndReaders_OnlyDocumentedExceptions()
    {
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
        var unexpected = new ConcurrentQueue<Exception>();
        var random = new Random(8);
        var budget = Stopwatch.StartNew();
        var iterations = 0;
        var rounds = Rounds;
        var timeBound = TimeSpan.FromSeconds(25.0 * rounds / DefaultRounds);
        var prefix = _accounting.Prefix();

        // Bounded in time as well as in rounds: a loaded machine runs fewer rounds, never a longer test.
        while (iterations < rounds && budget.Elapsed < timeBound)
        {
            iterations++;
            using var cts = new CancellationTokenSource(Step);
            var options = new ShmipcClientOptions
            {
                // 1 MiB of 16 KiB slices: the larger messages fall back to the socket.
                BufferCapacity = 1024 * 1024,
                SizeClasses = [new BufferSizeClass(16 * 1024, 100)],
                PathPrefix = prefix,
                HandshakeTimeout = TimeSpan.FromSeconds(5),
            };
            var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
            var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
            var written = new StrongBox();
            var clientStreams = new[] { client.OpenStream(), client.OpenStream() };
            foreach (var s in clientStreams)
            {
                await s.WriteAsync(new byte[] { 1 }, cts.Token);
            }

            var serverStreams = new[] { await server.AcceptStreamAsync(cts.Token), await server.AcceptStreamAsync(cts.Token) };
            var tasks = new List<Task>();
            foreach (var s in clientStreams.Concat(serverStreams))
            {
                tasks.Add(Task.Run(() => WriteUntilClosedAsync(s, written, unexpected)));
                tasks.Add(Task.Run(() => ReadUntilClosedAsync(s, unexpected)));
            }

            // Close at a different point of the traffic each round, from either side.
            var closeAfter = random.Next(0, 12);
            await WaitUntilAsync(() => Volatile.Read(ref written.Value) >= closeAfter || tasks.Any(t => t.IsCompleted), cts.Token);
            var (closing, other) = iterations % 2 == 0 ? (client, server) : (server, client);
            await Task.Run(() => closing.DisposeAsync().AsTask()).WaitAsync(Step);
            await Task.WhenAll(tasks).WaitAsync(Step);
            await other.DisposeAsync();
        }

        Assert.True(unexpected.IsEmpty, $"after {iterations} rounds: {string.Join(Environment.NewLine, unexpected.Take(5))}");
        Assert.Empty(Directory.GetFiles("/dev/shm", Path.GetFileName(prefix) + "*"));
    }

    private static async Task WriteUntilClosedAsync(ShmipcStream stream, StrongBox written, ConcurrentQueue<Exception> unexpected)
    {
        int[] sizes = [100, 20_000, 300_000, 2_000_000];
        for (var i = 0; ; i++)
        {
            try
            {
                if (i % 2 == 0)
                {
                    await stream.WriteAsync(new byte[sizes[i / 2 % sizes.Length]]);
                }
                else
                {
                    var lease = stream.Rent();
                    try
                    {
                        lease.GetSpan(500).Clear();
                        lease.Advance(500);
                        await stream.Output.WriteAsync(lease);
                    }
                    finally
                    {
                        lease.Dispose();
                    }
                }

                Interlocked.Increment(ref written.Value);
            }
            catch (ChannelClosedException e) when (e.InnerException is ShmipcException)
            {
                return;
            }
            catch (ShmipcException e) when (e.ErrorCode is ShmipcErrorCode.SessionClosed or ShmipcErrorCode.PeerClosed)
            {
                // Rent on a closed session.
                return;
            }
            catch (Exception e)
            {
                unexpected.Enqueue(e);
                return;
            }
        }
    }

    private static async Task ReadUntilClosedAsync(ShmipcStream stream, ConcurrentQueue<Exception> unexpected)
    {
        try
        {
            await foreach (var message in stream.Input.ReadAllAsync())
            {
                message.Dispose();
            }
        }
        catch (ChannelClosedException e) when (e.InnerException is ShmipcException)
        {
            // ReadAsync's way of reporting the session's end.
        }
        catch (ShmipcException)
        {
            // WaitToReadAsync (under ReadAllAsync) rethrows the completion error itself.
        }
        catch (Exception e)
        {
            unexpected.Enqueue(e);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(1, cancellationToken);
        }
    }

    private sealed class StrongBox
    {
        public int Value;
    }
}
