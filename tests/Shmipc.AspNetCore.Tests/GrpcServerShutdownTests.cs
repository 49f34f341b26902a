using Google.Protobuf;
using Grpc.Core;
using Shmipc.Channels;
using Shmipc.Examples.Grpc;
using Xunit;

namespace Shmipc.AspNetCore.Tests;

/// <summary>The server process stops while calls are in flight.</summary>
public class GrpcServerShutdownTests
{
    [Fact]
    public async Task Calls_in_flight_fail_cleanly_and_nothing_is_left_behind()
    {
        using var dir = new TempSocketDirectory();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var socket = dir.PathOf("echo.sock");
        var prefix = $"/dev/shm/shmipc_aspnet_test_{Guid.NewGuid():N}";
        using var server = EchoProcess.StartServer(socket);
        await server.WaitReadyAsync(cts.Token);

        var options = new ShmipcClientOptions { MemoryMapType = MemoryMapType.DevShmFile, PathPrefix = prefix };
        using (var channel = Shmipc.AspNetCore.ShmipcHttp.CreateGrpcChannel(socket, options))
        {
            var client = new Echo.EchoClient(channel);
            Assert.Equal("up", (await client.UnaryAsync(new Payload { Data = ByteString.CopyFromUtf8("up") }, cancellationToken: cts.Token)).Data.ToStringUtf8());

            // Calls that would take a minute, and a stream that has started.
            var unary = Enumerable.Range(0, 10)
                .Select(_ => client.UnaryAsync(new Payload { DelayMs = 60_000 }, cancellationToken: cts.Token).ResponseAsync)
                .ToArray();
            using var download = client.Download(new DownloadRequest { Count = 10_000, Size = 100, DelayMs = 10 }, cancellationToken: cts.Token);
            Assert.True(await download.ResponseStream.MoveNext(cts.Token));

            // Graceful stop: the server waits up to 5 s for the calls, then aborts them.
            Assert.Equal(0, await server.StopAsync(cts.Token));

            foreach (var call in unary)
            {
                var error = await Assert.ThrowsAsync<RpcException>(() => call);
                Assert.Contains(error.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Cancelled, StatusCode.Internal, StatusCode.Unknown });
            }

            var streamError = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await download.ResponseStream.MoveNext(cts.Token))
                {
                }
            });
            Assert.NotEqual(StatusCode.OK, streamError.StatusCode);

            // A new call fails cleanly too (nobody listens any more).
            var late = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.UnaryAsync(new Payload(), cancellationToken: cts.Token));
            Assert.Equal(StatusCode.Unavailable, late.StatusCode);
        }

        Assert.False(File.Exists(socket), "the server left its socket file");
        var prefixName = Path.GetFileName(prefix);
        Assert.Empty(Directory.EnumerateFiles("/dev/shm", prefixName + "*"));
    }
}
