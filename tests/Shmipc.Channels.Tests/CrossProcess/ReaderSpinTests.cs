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
    public async Task A_close_that_arrives_after_a_reader_found_its_message_by_spinning_is_delivered(PollingMode mode)
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var session = await _fixture.ConnectAsync(
            await _fixture.GetEchoServerAsync(),
            new ShmipcClientOptions { PathPrefix = _fixture.NewPrefix("spin"), PollingMode = mode },
            cts.Token);
        for (var round = 0; round < 10; round++)
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
        }

        await session.DisposeAsync();
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
