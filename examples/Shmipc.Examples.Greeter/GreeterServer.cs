using System.Text;
using System.Threading.Channels;
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

            var stream = await session.AcceptStreamAsync(cancellationToken);
            using (stream)
            {
                var (answered, closed) = await AnswerAsync(stream, cancellationToken);
                Console.WriteLine($"server answered {answered} request(s); the client closed the {closed}");
                return answered > 0 ? 0 : 1;
            }
        }
    }

    /// <summary>Answers requests until the client closes; returns how many, and what the client closed.</summary>
    private static async Task<(int Answered, string Closed)> AnswerAsync(ShmipcStream stream, CancellationToken cancellationToken)
    {
        using var reader = new ExactReader(stream.Input);
        var answered = 0;
        while (true)
        {
            byte[]? request;
            try
            {
                request = await reader.ReadExactlyAsync(GreeterWire.RequestLength, cancellationToken);
            }
            catch (Exception e) when (answered > 0 && e is ChannelClosedException or ShmipcException)
            {
                // A Go client closes its whole session (SessionManager.Close) rather than the stream: that is its goodbye.
                return (answered, "session");
            }

            if (request is null)
            {
                return (answered, "stream");
            }

            Console.WriteLine("server receive request message:" + Encoding.UTF8.GetString(request));

            // Written in place into shared memory, then published as one queue element: the Go client's ReadBytes(21)
            // sees exactly these bytes, as after the Go server's WriteString + Flush.
            var reply = stream.Rent();
            try
            {
                Encoding.UTF8.GetBytes(GreeterWire.Response, reply.Writer);
                await stream.Output.WriteAsync(reply, cancellationToken);
            }
            finally
            {
                reply.Dispose();
            }

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
