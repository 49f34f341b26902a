using System.Buffers;
using System.Threading.Channels;

namespace Shmipc.Channels.Tests.Peer;

/// <summary>Serves one stream: echoes (or only counts) every message until the other side closes the stream.</summary>
internal static class StreamEcho
{
    public static async Task RunAsync(ShmipcStream stream, bool echo)
    {
        var session = stream.Session.Name;
        long count = 0;
        long bytes = 0;
        try
        {
            await foreach (var message in stream.Input.ReadAllAsync())
            {
                using (message)
                {
                    count++;
                    bytes += message.Length;
                    if (echo && !await TryWriteCopyAsync(stream, message.Data))
                    {
                        // The other side closed while its messages were still queued: keep draining, stop echoing.
                        echo = false;
                    }
                }
            }

            // The other side closed the stream. shmipc has no half-open write side, so a write must fail now.
            var probe = await ProbeWriteAsync(stream);
            stream.Output.TryComplete();
            Console.WriteLine($"STREAM-END {session} {stream.Id} count={count} bytes={bytes} probe={probe}");
        }
        catch (ChannelClosedException e)
        {
            Console.WriteLine($"STREAM-FAIL {session} {stream.Id} count={count} {Describe(e.InnerException ?? e)}");
        }
        catch (ShmipcException e)
        {
            Console.WriteLine($"STREAM-FAIL {session} {stream.Id} count={count} {Describe(e)}");
        }
    }

    /// <summary>Copies <paramref name="data"/> into a lease (chaining slices as needed) and publishes it.</summary>
    public static async ValueTask<bool> TryWriteCopyAsync(ShmipcStream stream, ReadOnlySequence<byte> data)
    {
        var lease = stream.Rent();
        try
        {
            foreach (var segment in data)
            {
                var source = segment.Span;
                while (!source.IsEmpty)
                {
                    var destination = lease.GetSpan();
                    var n = Math.Min(destination.Length, source.Length);
                    source[..n].CopyTo(destination);
                    lease.Advance(n);
                    source = source[n..];
                }
            }

            await stream.Output.WriteAsync(lease);
            return true;
        }
        catch (ChannelClosedException e) when (e.InnerException is ShmipcException { ErrorCode: ShmipcErrorCode.StreamClosed })
        {
            return false;
        }
        finally
        {
            lease.Dispose();
        }
    }

    public static string Describe(Exception e) =>
        e is ShmipcException s ? $"error={s.ErrorCode} message={s.Message}" : $"error={e.GetType().Name} message={e.Message}";

    private static async ValueTask<string> ProbeWriteAsync(ShmipcStream stream)
    {
        try
        {
            await stream.WriteAsync(new byte[] { 0x42 });
            return "ok";
        }
        catch (ChannelClosedException e) when (e.InnerException is ShmipcException s)
        {
            return s.ErrorCode.ToString();
        }
        catch (ShmipcException s)
        {
            return s.ErrorCode.ToString();
        }
    }
}
