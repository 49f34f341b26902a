using System.Globalization;
using System.Threading.Channels;
using Shmipc.Channels.Benchmarks.PingPong;

namespace Shmipc.Channels.Benchmarks.Soak;

/// <summary>
/// <c>soak --serve --socket PATH</c>: the soak's server child. Every stream of every session echoes each message byte
/// for byte (copied into a fresh lease) until the client closes it. Prints <c>READY</c>, runs until stdin reaches end
/// of file, then prints <c>STATS echoed=… failures=…</c> and exits (1 if a session or stream failed).
/// </summary>
internal static class SoakServer
{
    private static long s_echoed;
    private static long s_failures;

    public static async Task<int> RunAsync(string socket)
    {
        var listener = ShmipcListener.Bind(socket, new ShmipcServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(30) });
        await using (listener.ConfigureAwait(false))
        {
            var serving = ServeAsync(listener);
            Console.WriteLine("READY");
            Console.Out.Flush();
            using (var stdin = Console.OpenStandardInput())
            {
                var buffer = new byte[64];
                while (await stdin.ReadAsync(buffer).ConfigureAwait(false) > 0)
                {
                }
            }

            await listener.DisposeAsync().ConfigureAwait(false);
            await serving.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STATS echoed={Interlocked.Read(ref s_echoed)} failures={Interlocked.Read(ref s_failures)}"));
        return Interlocked.Read(ref s_failures) == 0 ? 0 : 1;
    }

    private static async Task ServeAsync(ShmipcListener listener)
    {
        var sessions = new List<Task>();
        try
        {
            while (true)
            {
                var session = await listener.AcceptAsync().ConfigureAwait(false);
                sessions.Add(ServeSessionAsync(session));
            }
        }
        catch (ChannelClosedException)
        {
        }

        await Task.WhenAll(sessions).ConfigureAwait(false);
    }

    private static async Task ServeSessionAsync(ShmipcSession session)
    {
        var streams = new List<Task>();
        try
        {
            await foreach (var stream in session.IncomingStreams.ReadAllAsync().ConfigureAwait(false))
            {
                streams.Add(Task.Run(() => EchoAsync(stream)));
            }
        }
        catch (Exception e) when (IsEndOfRun(e))
        {
            // The client closed the session at the end of the run.
        }
        catch (Exception e)
        {
            Fail($"session {session.Name}: {e.Message}");
        }

        await Task.WhenAll(streams).ConfigureAwait(false);
        await session.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task EchoAsync(ShmipcStream stream)
    {
        try
        {
            await foreach (var request in stream.Input.ReadAllAsync().ConfigureAwait(false))
            {
                ShmLease reply;
                using (request)
                {
                    var data = request.Data;
                    reply = LeaseIo.RentCopy(stream, data);
                }

                try
                {
                    await stream.Output.WriteAsync(reply).ConfigureAwait(false);
                }
                finally
                {
                    reply.Dispose(); // a no-op once the stream owns it
                }

                Interlocked.Increment(ref s_echoed);
            }
        }
        catch (Exception e) when (IsEndOfRun(e))
        {
            // The client closed the stream or the session at the end of the run.
        }
        catch (Exception e)
        {
            Fail($"stream {stream.Id} of {stream.Session.Name}: {e.Message}");
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>How a session or stream ends when the client closes it: a plain channel close, or the session's close.</summary>
    private static bool IsEndOfRun(Exception e) => e switch
    {
        ChannelClosedException { InnerException: null } => true,
        ChannelClosedException { InnerException: ShmipcException inner } => IsEndOfRun(inner),
        ShmipcException { ErrorCode: ShmipcErrorCode.SessionClosed or ShmipcErrorCode.PeerClosed or ShmipcErrorCode.StreamClosed } => true,
        _ => false,
    };

    private static void Fail(string what)
    {
        Interlocked.Increment(ref s_failures);
        Console.Error.WriteLine($"soak server: {what}");
    }
}
