using Shmipc.Examples.Grpc;
using Xunit;

namespace Shmipc.AspNetCore.Tests;

/// <summary>One echo server process (the gRPC example's server) shared by the tests of a class.</summary>
public sealed class EchoServerFixture : IAsyncLifetime
{
    private readonly TempSocketDirectory _dir = new();
    private EchoProcess? _server;

    public string SocketPath => _dir.PathOf("echo.sock");

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _server = EchoProcess.StartServer(SocketPath);
        await _server.WaitReadyAsync(cts.Token);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await _server.StopAsync(cts.Token));
            _server.Dispose();
        }

        Assert.False(File.Exists(SocketPath), "the server left its socket file");
        _dir.Dispose();
    }
}
