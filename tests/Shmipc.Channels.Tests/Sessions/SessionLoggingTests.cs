using Microsoft.Extensions.Logging;
using Shmipc.Channels.Tests.Adapters;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>What a session logs through <see cref="ShmipcOptions.LoggerFactory"/>: opened, fallback entered, closed.</summary>
public sealed class SessionLoggingTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_session_logs_its_opening_its_first_fallback_per_stream_and_its_close()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var logs = new CapturingLoggerFactory();
        var options = _accounting.Options(TestClientOptions.Small(TimeSpan.FromSeconds(10)));
        options.LoggerFactory = logs;
        var pair = await ConnectedStreams.CreateAsync(cts.Token, options);
        _accounting.Track(pair.Client);
        _accounting.Track(pair.Server);
        var name = pair.Client.Name;
        await using (pair)
        {
            // A contiguous span larger than any slice (4 KiB here) moves the message to the heap and the socket.
            for (var i = 0; i < 2; i++)
            {
                var lease = pair.ClientStream.Rent();
                lease.GetSpan(10_000).Fill(1);
                lease.Advance(10_000);
                await pair.ClientStream.Output.WriteAsync(lease, cts.Token);
                using var received = await pair.ServerStream.Input.ReadAsync(cts.Token);
                Assert.Equal(10_000, received.Length);
            }

            Assert.True(pair.ClientStream.IsInFallback);
        }

        var lines = logs.Lines.ToArray();
        Assert.All(lines, l => Assert.Equal("Shmipc", l.Category));
        Assert.Single(lines, l => l.Message.Contains($"session {name} opened (client", StringComparison.Ordinal));
        var fallback = Assert.Single(lines, l => l.Message.Contains("entered fallback", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, fallback.Level);
        Assert.Contains($"stream {pair.ClientStream.Id} entered fallback", fallback.Message, StringComparison.Ordinal);
        Assert.Single(lines, l => l.Message.Contains($"session {name} closed", StringComparison.Ordinal) || l.Message.Contains($"session {name} ended", StringComparison.Ordinal));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
