using Google.Protobuf;
using Grpc.Core;
using Shmipc.Examples.Grpc;
using Xunit;

namespace Shmipc.AspNetCore.Tests;

/// <summary>Grpc.Net.Client in this process, ASP.NET Core gRPC in another, over shared memory.</summary>
public class GrpcCrossProcessTests(EchoServerFixture server) : IClassFixture<EchoServerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task All_four_kinds_of_call_work()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var channel = EchoClientDemo.CreateChannel(server.SocketPath);
        var client = new Echo.EchoClient(channel);

        var reply = await client.UnaryAsync(new Payload { Data = ByteString.CopyFromUtf8("hello") }, cancellationToken: cts.Token);
        Assert.Equal("hello", reply.Data.ToStringUtf8());

        using (var download = client.Download(new DownloadRequest { Count = 20, Size = 10_000 }, cancellationToken: cts.Token))
        {
            var sizes = new List<int>();
            await foreach (var payload in download.ResponseStream.ReadAllAsync(cts.Token))
            {
                sizes.Add(payload.Data.Length);
            }

            Assert.Equal(Enumerable.Repeat(10_000, 20), sizes);
        }

        using (var upload = client.Upload(cancellationToken: cts.Token))
        {
            for (var i = 1; i <= 30; i++)
            {
                await upload.RequestStream.WriteAsync(new Payload { Data = ByteString.CopyFrom(new byte[i * 100]) }, cts.Token);
            }

            await upload.RequestStream.CompleteAsync();
            var summary = await upload;
            Assert.Equal(30, summary.Count);
            Assert.Equal(100L * 30 * 31 / 2, summary.Bytes);
        }

        using (var chat = client.Chat(cancellationToken: cts.Token))
        {
            for (var i = 0; i < 25; i++)
            {
                await chat.RequestStream.WriteAsync(new Payload { Data = ByteString.CopyFromUtf8($"ping {i}") }, cts.Token);
                Assert.True(await chat.ResponseStream.MoveNext(cts.Token));
                Assert.Equal($"ping {i}", chat.ResponseStream.Current.Data.ToStringUtf8());
            }

            await chat.RequestStream.CompleteAsync();
            Assert.False(await chat.ResponseStream.MoveNext(cts.Token));
        }
    }

    [Fact]
    public async Task Deadlines_and_cancellation_end_calls_and_the_channel_keeps_working()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var channel = EchoClientDemo.CreateChannel(server.SocketPath);
        var client = new Echo.EchoClient(channel);
        var slow = new Payload { Data = ByteString.CopyFromUtf8("slow"), DelayMs = 60_000 };

        var deadline = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.UnaryAsync(slow, deadline: DateTime.UtcNow.AddMilliseconds(300), cancellationToken: cts.Token));
        Assert.Equal(StatusCode.DeadlineExceeded, deadline.StatusCode);

        using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            var call = client.UnaryAsync(slow, cancellationToken: cancel.Token);
            await cancel.CancelAsync();
            var cancelled = await Assert.ThrowsAsync<RpcException>(async () => await call);
            Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
        }

        using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            using var download = client.Download(new DownloadRequest { Count = 1000, Size = 100, DelayMs = 20 }, cancellationToken: cancel.Token);
            Assert.True(await download.ResponseStream.MoveNext(cts.Token));
            await cancel.CancelAsync();
            var cancelled = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await download.ResponseStream.MoveNext(cancel.Token))
                {
                }
            });
            Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
        }

        var after = await client.UnaryAsync(new Payload { Data = ByteString.CopyFromUtf8("still here") }, cancellationToken: cts.Token);
        Assert.Equal("still here", after.Data.ToStringUtf8());
    }

    [Fact]
    public async Task Four_megabyte_messages_travel_both_ways()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var channel = EchoClientDemo.CreateChannel(server.SocketPath);
        var client = new Echo.EchoClient(channel);
        var data = new byte[4 * 1024 * 1024];
        Random.Shared.NextBytes(data);
        var payload = new Payload { Data = ByteString.CopyFrom(data) };

        var reply = await client.UnaryAsync(payload, cancellationToken: cts.Token);
        Assert.True(reply.Data.Span.SequenceEqual(data));

        using var chat = client.Chat(cancellationToken: cts.Token);
        for (var i = 0; i < 2; i++)
        {
            await chat.RequestStream.WriteAsync(payload, cts.Token);
            Assert.True(await chat.ResponseStream.MoveNext(cts.Token));
            Assert.True(chat.ResponseStream.Current.Data.Span.SequenceEqual(data));
        }

        await chat.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task A_hundred_concurrent_calls_share_one_channel()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var channel = EchoClientDemo.CreateChannel(server.SocketPath);
        var client = new Echo.EchoClient(channel);

        var calls = Enumerable.Range(0, 100).Select(async i =>
        {
            var data = new byte[4096];
            data.AsSpan().Fill((byte)i);
            var reply = await client.UnaryAsync(new Payload { Data = ByteString.CopyFrom(data), DelayMs = 50 }, cancellationToken: cts.Token);
            return reply.Data.Span.SequenceEqual(data);
        });

        Assert.All(await Task.WhenAll(calls), Assert.True);
    }
}
