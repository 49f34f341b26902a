using Google.Protobuf;
using Grpc.Core;

namespace Shmipc.Examples.Grpc;

/// <summary>The server side of echo.proto.</summary>
public sealed class EchoService : Echo.EchoBase
{
    public override async Task<Payload> Unary(Payload request, ServerCallContext context)
    {
        if (request.DelayMs > 0)
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }

        return new Payload { Data = request.Data };
    }

    public override async Task Download(DownloadRequest request, IServerStreamWriter<Payload> responseStream, ServerCallContext context)
    {
        var data = ByteString.CopyFrom(new byte[request.Size]);
        for (var i = 0; i < request.Count; i++)
        {
            if (request.DelayMs > 0)
            {
                await Task.Delay(request.DelayMs, context.CancellationToken);
            }

            await responseStream.WriteAsync(new Payload { Data = data }, context.CancellationToken);
        }
    }

    public override async Task<UploadSummary> Upload(IAsyncStreamReader<Payload> requestStream, ServerCallContext context)
    {
        var summary = new UploadSummary();
        await foreach (var payload in requestStream.ReadAllAsync(context.CancellationToken))
        {
            summary.Count++;
            summary.Bytes += payload.Data.Length;
        }

        return summary;
    }

    public override async Task Chat(IAsyncStreamReader<Payload> requestStream, IServerStreamWriter<Payload> responseStream, ServerCallContext context)
    {
        await foreach (var payload in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new Payload { Data = payload.Data }, context.CancellationToken);
        }
    }
}
