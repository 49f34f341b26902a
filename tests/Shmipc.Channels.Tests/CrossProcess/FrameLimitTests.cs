using Microsoft.Extensions.Logging;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Shmipc.Channels.Tests.CrossProcess;

/// <summary>
/// Both directions obey one frame limit (<see cref="ShmipcOptions.MaxFrameLength"/>): a message too large for the
/// socket path is refused at the writer before anything is sent, and a session that a peer's oversized frame ends is
/// reported where the application sees it (the listener, <see cref="ShmipcSession.Completion"/>, the log).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class FrameLimitTests : IDisposable
{
    private const int TinyBuffer = 1024 * 1024;
    private const int TinySlice = 16 * 1024;
    private const int FrameLimit = 1024 * 1024;

    private readonly CrossProcessFixture _fixture;

    public FrameLimitTests(CrossProcessFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Attach(output);
    }

    [Fact]
    public async Task WriteAsync_MessageTooLargeForTheSocketPath_FailsAtTheWriterAndTheSessionStaysUsable()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var prefix = _fixture.NewPrefix("limit");
        var options = new ShmipcClientOptions
        {
            BufferCapacity = TinyBuffer,
            SizeClasses = [new BufferSizeClass(TinySlice, 100)],
            PathPrefix = prefix,
            MaxFrameLength = FrameLimit,
        };
        var session = await _fixture.ConnectAsync(await _fixture.GetEchoServerAsync(), options, cts.Token);
        var stream = session.OpenStream();
        await Messages.RoundTripAsync(stream, 4096, 1, cts.Token);

        // 2 MiB cannot fit the 1 MiB region, and its FallbackData frame would exceed the 1 MiB frame limit.
        var error = await Assert.ThrowsAsync<ShmipcException>(async () => await Messages.WriteAsync(stream, 2 * 1024 * 1024, 2, cts.Token));
        Assert.Equal(ShmipcErrorCode.MessageTooLarge, error.ErrorCode);
        Assert.Contains("a message of 2097152 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {FrameLimit - 16} bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, session.FallbackWriteCount);

        // Nothing was sent, the stream did not switch to the socket, and the session carries on.
        Assert.False(session.IsClosed);
        await Messages.RoundTripAsync(stream, 100 * 1024, 3, cts.Token);
        await Messages.RoundTripAsync(stream, 17, 4, cts.Token);
        Assert.Equal(0, session.FallbackWriteCount);

        stream.Output.Complete();
        var end = await _fixture.EchoServerPeer.WaitForLineAsync($"STREAM-END {session.Name} {stream.Id} ", CrossProcessFixture.Timeout);
        Assert.Contains(" count=3 ", end, StringComparison.Ordinal);
        await stream.DisposeAsync();
        await session.DisposeAsync();
        Assert.Empty(CrossProcessFixture.ShmFiles(prefix));
    }

    [Fact]
    public async Task OversizedFrameFromPeer_EndsTheSession_ReportedOnTheListenerCompletionAndLog()
    {
        using var cts = new CancellationTokenSource(CrossProcessFixture.Timeout);
        var logs = new CapturingLoggerFactory();
        await using var listener = ShmipcListener.Bind(
            Path.Combine(_fixture.Directory, "oversized.sock"),
            new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5), LoggerFactory = logs });

        await using var hostile = _fixture.StartPeer("hostile-oversized", "hostile-garbage", listener.SocketPath!, "--kind", "oversized");
        var name = (await hostile.WaitForLineAsync("READY ", CrossProcessFixture.Timeout)).Split(' ')[1];
        var session = await listener.AcceptAsync(cts.Token);
        Assert.Equal(name, session.Name);

        var completion = await Assert.ThrowsAsync<ShmipcException>(() => session.Completion.WaitAsync(cts.Token));
        Assert.Equal(ShmipcErrorCode.ProtocolViolation, completion.ErrorCode);
        Assert.Contains($"length {(64 * 1024 * 1024) + 1} exceeds the maximum frame length {64 * 1024 * 1024}", completion.Message, StringComparison.Ordinal);

        // The listener reports the end with the session's name and the cause.
        var reported = await listener.SessionFailures.ReadAsync(cts.Token);
        Assert.Equal(ShmipcErrorCode.ProtocolViolation, reported.ErrorCode);
        Assert.StartsWith($"session {name} ended: ", reported.Message, StringComparison.Ordinal);
        Assert.Contains("exceeds the maximum frame length", reported.Message, StringComparison.Ordinal);
        Assert.Same(completion, reported.InnerException);

        // And the log has a warning naming the session and the cause.
        Assert.Contains(
            logs.Lines,
            l => l.Level == LogLevel.Warning && l.Message.Contains(name, StringComparison.Ordinal) && l.Message.Contains("exceeds the maximum frame length", StringComparison.Ordinal));

        await hostile.WaitForLineAsync("SERVER-CLOSED closed", CrossProcessFixture.Timeout);
        Assert.Equal(0, await hostile.WaitForExitAsync(CrossProcessFixture.Timeout));
    }

    public void Dispose() => _fixture.Detach();
}
