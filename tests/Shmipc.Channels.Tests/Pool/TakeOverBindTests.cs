using System.Runtime.Versioning;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Pool;

/// <summary>The new server of a hot restart takes the path over from a server that still listens on it.</summary>
[SupportedOSPlatform("linux")]
public sealed class TakeOverBindTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Bind_TakeOverSocketPath_NewClientsReachTheNewServer_OldSessionsKeepWorking_OldDisposeLeavesTheFile()
    {
        using var socket = new TempSocketPath();
        using var cts = new CancellationTokenSource(Timeout);
        var options = TestClientOptions.Small(TimeSpan.FromSeconds(5));
        var old = new EchoListener(socket.Path);
        await using var before = await ShmipcClient.ConnectAsync(socket.Path, options, cts.Token);
        await old.WaitForSessionsAsync(1, Timeout);

        // Without the option a live path is refused.
        var refused = Assert.Throws<ShmipcException>(() => ShmipcListener.Bind(socket.Path));
        Assert.Contains("EADDRINUSE", refused.Message, StringComparison.Ordinal);

        await using var fresh = new EchoListener(socket.Path, new ShmipcServerOptions { TakeOverSocketPath = true });
        await using var after = await ShmipcClient.ConnectAsync(socket.Path, options, cts.Token);
        await fresh.WaitForSessionsAsync(1, Timeout);
        Assert.Single(old.Sessions);
        Assert.Equal(after.Name, Assert.Single(fresh.Sessions).Name);

        var oldStream = before.OpenStream();
        await ClientPoolTests.RoundTripAsync(oldStream, "still served by the old server", cts.Token);
        oldStream.Dispose();

        await old.DisposeAsync();
        Assert.True(File.Exists(socket.Path), "the old server removed the new server's socket file");
        Assert.Empty(Directory.GetFiles(socket.Directory, "*.takeover"));
        await using var third = await ShmipcClient.ConnectAsync(socket.Path, options, cts.Token);
        await fresh.WaitForSessionsAsync(2, Timeout);
    }

    [Fact]
    public void Bind_TakeOverSocketPath_RegularFileAtThePath_IsRefusedAndLeftAlone()
    {
        using var socket = new TempSocketPath();
        File.WriteAllText(socket.Path, "not a socket");
        var e = Assert.Throws<ShmipcException>(() => ShmipcListener.Bind(socket.Path, new ShmipcServerOptions { TakeOverSocketPath = true }));
        Assert.Contains("not a socket", e.Message, StringComparison.Ordinal);
        Assert.Equal("not a socket", File.ReadAllText(socket.Path));
    }
}
