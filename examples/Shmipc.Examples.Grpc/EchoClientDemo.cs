using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Shmipc.AspNetCore;

namespace Shmipc.Examples.Grpc;

/// <summary>The client process: the four kinds of call through Grpc.Net.Client over shared memory.</summary>
public static class EchoClientDemo
{
    public static GrpcChannel CreateChannel(string shmipcPath) =>
        ShmipcHttp.CreateGrpcChannel(shmipcPath, channelOptions: new GrpcChannelOptions { MaxReceiveMessageSize = EchoServer.MaxMessageBytes, MaxSendMessageSize = EchoServer.MaxMessageBytes });

    public static async Task RunAsync(string shmipcPath, CancellationToken cancellationToken)
    {
        using var channel = CreateChannel(shmipcPath);
        var client = new Echo.EchoClient(channel);

        var reply = await client.UnaryAsync(new Payload { Data = ByteString.CopyFromUtf8("hello over shared memory") }, cancellationToken: cancellationToken);
        Console.WriteLine($"  unary:            \"{reply.Data.ToStringUtf8()}\"");

        var sw = Stopwatch.StartNew();
        const int Calls = 2000;
        var small = new Payload { Data = ByteString.CopyFrom(new byte[64]) };
        for (var i = 0; i < Calls; i++)
        {
            await client.UnaryAsync(small, cancellationToken: cancellationToken);
        }

        Console.WriteLine($"  unary x{Calls}:       {Calls / sw.Elapsed.TotalSeconds:F0} calls/s (64-byte payload, one call at a time)");

        using (var download = client.Download(new DownloadRequest { Count = 100, Size = 64 * 1024 }, cancellationToken: cancellationToken))
        {
            long bytes = 0;
            var count = 0;
            await foreach (var payload in download.ResponseStream.ReadAllAsync(cancellationToken))
            {
                count++;
                bytes += payload.Data.Length;
            }

            Console.WriteLine($"  server streaming: {count} messages, {bytes} bytes");
        }

        using (var upload = client.Upload(cancellationToken: cancellationToken))
        {
            for (var i = 0; i < 50; i++)
            {
                await upload.RequestStream.WriteAsync(new Payload { Data = ByteString.CopyFrom(new byte[4096]) }, cancellationToken);
            }

            await upload.RequestStream.CompleteAsync();
            var summary = await upload;
            Console.WriteLine($"  client streaming: server counted {summary.Count} messages, {summary.Bytes} bytes");
        }

        using (var chat = client.Chat(cancellationToken: cancellationToken))
        {
            var echoed = 0;
            for (var i = 0; i < 10; i++)
            {
                await chat.RequestStream.WriteAsync(new Payload { Data = ByteString.CopyFromUtf8($"ping {i}") }, cancellationToken);
                await chat.ResponseStream.MoveNext(cancellationToken);
                echoed += chat.ResponseStream.Current.Data.ToStringUtf8() == $"ping {i}" ? 1 : 0;
            }

            await chat.RequestStream.CompleteAsync();
            Console.WriteLine($"  bidi streaming:   {echoed}/10 pings echoed in order");
        }
    }
}
