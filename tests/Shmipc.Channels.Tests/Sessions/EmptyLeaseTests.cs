using System.Text;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// shmipc has no empty message. An empty lease is refused at the writer with a clear error instead of being dropped
/// silently, so one lease written is one lease received; the refused lease stays with the caller.
/// </summary>
public sealed class EmptyLeaseTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WriteAsync_EmptyLease_IsRefusedAndTheLeaseStaysWithTheCaller()
    {
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { HandshakeTimeout = Timeout });
        var options = _accounting.Options(TestClientOptions.Small(Timeout));
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
        await using var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();

        var lease = stream.Rent();
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await stream.Output.WriteAsync(lease, cts.Token));
        Assert.Contains("empty", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("§", refused.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => stream.Output.TryWrite(lease));
        Assert.True(lease.IsValid);

        // The same lease, now with one byte, is the first (and only) message the peer receives.
        Encoding.UTF8.GetBytes("x", lease.Writer);
        await stream.Output.WriteAsync(lease, cts.Token);
        await Assert.ThrowsAsync<ArgumentException>(async () => await stream.WriteAsync(ReadOnlyMemory<byte>.Empty, cts.Token));
        await stream.WriteAsync("y"u8.ToArray(), cts.Token);

        var accepted = await server.AcceptStreamAsync(cts.Token);
        using (var first = await accepted.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("x", Encoding.UTF8.GetString(first.Data));
        }

        using (var second = await accepted.Input.ReadAsync(cts.Token))
        {
            Assert.Equal("y", Encoding.UTF8.GetString(second.Data));
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
