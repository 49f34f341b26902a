using System.Runtime.Versioning;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Sessions;

/// <summary>
/// A listener removes only its own socket file: after a restart or a blue-green switch (the path removed and bound
/// again by another server) disposing the old listener must not take the new server's socket away.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ListenerSocketFileTests : IAsyncLifetime
{
    private readonly SessionAccounting _accounting = new();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task DisposeAsync_PathBoundAgainByAnotherListener_LeavesTheNewSocketFileAndItsClientsConnect()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        var first = ShmipcListener.Bind(socket.Path);
        await using (first)
        {
            // What a deployment script does before it starts the next server: rm -f the path.
            File.Delete(socket.Path);
            await using var second = ShmipcListener.Bind(socket.Path);
            await first.DisposeAsync();

            Assert.True(File.Exists(socket.Path), "disposing the first listener removed the second listener's socket file");
            await using var client = _accounting.Track(await ShmipcClient.ConnectAsync(socket.Path, _accounting.Options(new ShmipcClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) }), cts.Token));
            await using var accepted = _accounting.Track(await second.AcceptAsync(cts.Token));
            Assert.Equal(client.Name, accepted.Name);
        }
    }

    [Fact]
    public async Task DisposeAsync_OwnSocketFile_IsRemoved()
    {
        using var socket = new TempSocketPath();
        var listener = ShmipcListener.Bind(socket.Path);
        Assert.True(File.Exists(socket.Path));
        await listener.DisposeAsync();
        Assert.False(File.Exists(socket.Path));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _accounting.VerifyAsync();
}
