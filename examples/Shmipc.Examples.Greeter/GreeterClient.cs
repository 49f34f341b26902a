using System.Text;
using Shmipc.Channels;

namespace Shmipc.Examples.Greeter;

/// <summary>
/// shmipc-go's greeter_client: connect (by default with /dev/shm files under <c>/dev/shm/client.ipc.shm</c>, as the Go
/// example), open a stream, send the 25-byte request as one message, read the 21-byte reply.
/// </summary>
internal static class GreeterClient
{
    public static async Task<int> RunAsync(GreeterArguments args, CancellationToken cancellationToken)
    {
        var options = new ShmipcClientOptions
        {
            // shmipc-go's DefaultConfig uses MemMapTypeDevShmFile; the Go example keeps it.
            MemoryMapType = args.MemoryMapType ?? MemoryMapType.DevShmFile,
            PathPrefix = GreeterWire.ClientPathPrefix,
        };

        await using var session = await ShmipcClient.ConnectAsync(args.SocketPath, options, cancellationToken);
        var mode = options.MemoryMapType == MemoryMapType.MemFd ? "memfd" : "/dev/shm files";
        Console.WriteLine($"client connected to {args.SocketPath} ({mode}, protocol v{session.ProtocolVersion})");

        // A System.IO.Stream over the shmipc stream: each write is one message, copied straight into shared memory
        // (as the Go client's WriteString + Flush), and reads run across message boundaries.
        await using var stream = session.OpenStream().AsStream();
        var request = Encoding.UTF8.GetBytes(GreeterWire.Request);
        for (var i = 0; i < args.Count; i++)
        {
            Console.WriteLine("client stream send request:" + GreeterWire.Request);
            await stream.WriteAsync(request, cancellationToken);

            var response = await GreeterWire.ReadExactlyOrEndAsync(stream, GreeterWire.ResponseLength, cancellationToken);
            if (response is null)
            {
                await Console.Error.WriteLineAsync($"client: the server closed the stream after {i} response(s)");
                return 1;
            }

            var text = Encoding.UTF8.GetString(response);
            Console.WriteLine("client stream receive response " + text);
            if (text != GreeterWire.Response)
            {
                await Console.Error.WriteLineAsync($"client: expected '{GreeterWire.Response}'");
                return 1;
            }
        }

        return 0;
    }
}
