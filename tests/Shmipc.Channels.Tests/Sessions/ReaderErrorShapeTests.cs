using System.Threading.Channels;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// The README's promise about what a reader sees when its session fails: <c>ReadAsync</c> throws a
/// <see cref="ChannelClosedException"/> carrying the <see cref="ShmipcException"/>; <c>await foreach</c> over
/// <c>ReadAllAsync</c> and <c>Completion</c> throw the <see cref="ShmipcException"/> itself.
/// </summary>
public sealed class ReaderErrorShapeTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task SessionFailure_ReadAsyncWrapsIt_ReadAllAsyncAndCompletionThrowItBare()
    {
        using var path = new TempSocketPath();
        await using var listener = ShmipcListener.Bind(path.Path, new ShmipcServerOptions { HandshakeTimeout = Timeout });
        var options = _accounting.Options(TestClientOptions.Small(Timeout));
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(path.Path, options, cts.Token));
        var server = _accounting.Track(await listener.AcceptAsync(cts.Token));
        var stream = client.OpenStream();

        // The server goes away: the client's session fails and its streams fail with it.
        await server.DisposeAsync();
        var failure = await Assert.ThrowsAnyAsync<ShmipcException>(() => client.Completion.WaitAsync(cts.Token));

        var wrapped = await Assert.ThrowsAsync<ChannelClosedException>(async () => await stream.Input.ReadAsync(cts.Token));
        Assert.IsType<ShmipcException>(wrapped.InnerException);

        var bare = await Assert.ThrowsAsync<ShmipcException>(async () =>
        {
            await foreach (var msg in stream.Input.ReadAllAsync(cts.Token))
            {
                msg.Dispose();
            }
        });
        Assert.Equal(failure.ErrorCode, bare.ErrorCode);
        await Assert.ThrowsAsync<ShmipcException>(() => stream.Input.Completion.WaitAsync(cts.Token));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
