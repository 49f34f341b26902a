using System.Text;
using Shmipc.Channels;

namespace Shmipc.Examples.Greeter;

/// <summary>
/// shmipc-go's greeter_server: listen, accept one session and one stream, read the 25-byte request, answer with the
/// 21-byte reply. It then keeps answering further requests on that stream until the client closes it (the Go server
/// answers once and sleeps a second before closing; a Go client only ever sends one request).
/// </summary>
internal static class GreeterServer
{
    public static async Task<int> RunAsync(GreeterArguments args, CancellationToken cancellationToken)
    {
        await using var listener = ShmipcListener.Bind(args.SocketPath);
        Console.WriteLine($"server listening on {args.SocketPath}");
        var failures = ReportHandshakeFailuresAsync(listener, cancellationToken);

        var session = await listener.AcceptAsync(cancellationToken);
        await using (session)
        {
            Console.WriteLine($"server accepted session {session.Name} (protocol v{session.ProtocolVersion})");
            if (args.MemoryMapType == MemoryMapType.MemFd && session.ProtocolVersion < 3)
            {
                // memfd always negotiates v3; a v2 session can only be a file-mode client.
                await Console.Error.WriteLineAsync("server: --memfd was given but the client shares /dev/shm files (protocol v2)");
                return 1;
            }

            var stream = (await session.AcceptStreamAsync(cancellationToken)).AsStream();
            await using (stream)
            {
                var (answered, closed) = await AnswerAsync(stream, cancellationToken);
                Console.WriteLine($"server answered {answered} request(s); the client closed the {closed}");
                return answered > 0 ? 0 : 1;
            }
        }
    }

    /// <summary>Answers requests until the client closes; returns how many, and what the client closed.</summary>
    private static async Task<(int Answered, string Closed)> AnswerAsync(Stream stream, CancellationToken cancellationToken)
    {
        var response = Encoding.UTF8.GetBytes(GreeterWire.Response);
        var answered = 0;
        while (true)
        {
            byte[]? request;
            try
            {
                request = await GreeterWire.ReadExactlyOrEndAsync(stream, GreeterWire.RequestLength, cancellationToken);
            }
            catch (IOException e) when (answered > 0 && e.InnerException is ShmipcException)
            {
                // A Go client closes its whole session (SessionManager.Close) rather than the stream: that is its goodbye.
                return (answered, "session");
            }

            if (request is null)
            {
                return (answered, "stream");
            }

            Console.WriteLine("server receive request message:" + Encoding.UTF8.GetString(request));

            // One write is one message, copied once into shared memory and published: the Go client's ReadBytes(21)
            // sees exactly these bytes, as after the Go server's WriteString + Flush.
            await stream.WriteAsync(response, cancellationToken);
            Console.WriteLine("server reply response: " + GreeterWire.Response);
            answered++;
        }
    }

    private static async Task ReportHandshakeFailuresAsync(ShmipcListener listener, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var failure in listener.HandshakeFailures.ReadAllAsync(cancellationToken))
            {
                await Console.Error.WriteLineAsync($"server: a client's handshake failed ({failure.ErrorCode}): {failure.Message}");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
