using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// A reader that spins for its message holds its receive queue's working flag while the reactor stays parked, without
/// a timeout (docs/ARCHITECTURE.md §4 step 5). The peer sends no wake-up while that flag is set, so once the reader has
/// its message and stops spinning it must give the flag back, or what arrives next for nobody's spin is never
/// delivered: here the peer's close of the stream, seen only through <c>Input.Completion</c> (which does not spin).
/// Without the release in Session.ReaderSpinEnded both cases fail in round 0.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ReaderSpinTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private readonly CrossProcessFixture _fixture;

    public ReaderSpinTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    [Theory]
    [InlineData(PollingMode.Balanced)]
    [InlineData(PollingMode.Latency)]
    public Task A_close_that_arrives_after_a_reader_found_its_message_by_spinning_is_delivered(PollingMode mode) =>
        RunRoundsAsync(mode, rounds: 10, busyNeighbour: false);

    /// <summary>
    /// The same while a second session in this process keeps a reader spinning (request/response in a loop): the
    /// reactor then parks "for readers" nearly all the time, and the first session's reader must still give its flag
    /// back although readers keep spinning in the process. (The narrower window, one session's last reader stopping
    /// while the reactor decides to park and another session's reader starts, is closed by the reactor's reader epoch;
    /// this test does not reliably reach it: see ShmipcReactor's Design notes.)
    /// </summary>
    [Theory]
    [InlineData(PollingMode.Balanced)]
    [InlineData(PollingMode.Latency)]
    public Task The_close_is_delivered_while_another_sessions_reader_keeps_spinning(PollingMode mode) =>
        RunRoundsAsync(mode, rounds: 30, busyNeighbour: true);

    private async Task RunRoundsAsync(PollingMode mode, int rounds, bool busyNeighbour)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var server = await _fixture.GetEchoServerAsync();
        var session = await _fixture.ConnectAsync(
            server,
            new ShmipcClientOptions { PathPrefix = _fixture.NewPrefix("spin"), PollingMode = mode },
            cts.Token);
        await using var neighbour = busyNeighbour
            ? await _fixture.ConnectAsync(server, new ShmipcClientOptions { PathPrefix = _fixture.NewPrefix("spin-n"), PollingMode = mode }, cts.Token)
            : null;
        using var stopNeighbour = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var neighbourLoop = neighbour is null ? Task.CompletedTask : Task.Run(() => KeepSpinningAsync(neighbour, stopNeighbour.Token));
        for (var round = 0; round < rounds; round++)
        {
            var stream = session.OpenStream();

            // Wait until this process's reactor has cleared the flag (it parks without a timeout then): the state in
            // which the reader's claim on the flag must reach the reactor.
            await WaitUntilFlagClearAsync(session, round, cts.Token);
            await Messages.RoundTripAsync(stream, 64, (uint)round, cts.Token);

            await _fixture.EchoServerPeer.CommandAsync($"close {session.Name} {stream.Id}", $"CLOSED {session.Name} {stream.Id}", CrossProcessFixture.Timeout);
            try
            {
                await stream.Input.Completion.WaitAsync(Bound, cts.Token);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"round {round} ({mode}): the peer's close was not delivered within {Bound.TotalSeconds} s; it waited for a wake-up the peer did not send, as the working flag was still held for a reader that had stopped spinning (Session.ReaderSpinEnded)");
            }

            Assert.True(stream.IsClosedByPeer);
            await stream.DisposeAsync();
            Assert.False(neighbourLoop.IsFaulted, $"round {round}: the neighbour's loop failed: {neighbourLoop.Exception}");
        }

        await stopNeighbour.CancelAsync();
        await neighbourLoop;
        await session.DisposeAsync();
    }

    private static async Task KeepSpinningAsync(ShmipcSession session, CancellationToken cancellationToken)
    {
        await using var stream = session.OpenStream();
        for (uint seed = 0; !cancellationToken.IsCancellationRequested; seed++)
        {
            await Messages.RoundTripAsync(stream, 64, seed, CancellationToken.None);
        }
    }

    private static async Task WaitUntilFlagClearAsync(ShmipcSession session, int round, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (session.Engine.ReceiveQueueWorking)
        {
            Assert.True(DateTime.UtcNow < deadline, $"round {round}: the idle reactor did not clear its working flag within {Bound.TotalSeconds} s");
            await Task.Delay(1, cancellationToken);
        }
    }
}
