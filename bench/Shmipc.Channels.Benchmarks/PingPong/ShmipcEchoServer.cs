using System.Threading.Channels;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The shmipc side of the pingpong server child: every stream of every session echoes each request (read and checksum
/// every byte, copy every byte into a fresh lease, publish it) until the client closes the stream or the session. A
/// stream that opens with <see cref="MessageSet.Hello"/> is one-way: every message is verified, only the sync message
/// that ends a burst is echoed.
/// </summary>
internal sealed class ShmipcEchoServer(ShmipcListener listener, EchoStats stats, bool prefault)
{
    public async Task RunAsync()
    {
        while (true)
        {
            ShmipcSession session;
            try
            {
                session = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return;
            }

            _ = ServeSessionAsync(session);
        }
    }

    private async Task ServeSessionAsync(ShmipcSession session)
    {
        try
        {
            if (prefault)
            {
                RegionPrefaulter.Touch(session); // before the first stream: the client waits for its echo
            }

            while (true)
            {
                var stream = await session.AcceptStreamAsync().ConfigureAwait(false);
                _ = Task.Run(() => EchoAsync(stream));
            }
        }
        catch (ChannelClosedException)
        {
            // The client closed the session (it does so after each payload size).
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task EchoAsync(ShmipcStream stream)
    {
        var sink = false;
        try
        {
            while (true)
            {
                var request = await stream.Input.ReadAsync().ConfigureAwait(false);
                ShmLease reply;
                try
                {
                    var data = request.Data;
                    if (!MessageSet.Verify(data, out var header))
                    {
                        stats.Mismatch($"shmipc stream {stream.Id}", data.Length);
                        return;
                    }

                    stats.Ok(request.Length);
                    if (!sink && request.Length == MessageSet.HelloSize && header == MessageSet.Header(MessageSet.Hello))
                    {
                        sink = true; // one-way from now on; the hello itself is echoed
                    }
                    else if (sink && request.Length != MessageSet.SyncSize)
                    {
                        continue; // verified; nothing to send back (the finally below returns the request's slices)
                    }

                    reply = LeaseIo.RentCopy(stream, data);
                }
                finally
                {
                    request.Dispose();
                }

                try
                {
                    await stream.Output.WriteAsync(reply).ConfigureAwait(false);
                }
                finally
                {
                    reply.Dispose(); // a no-op once the stream owns it
                }
            }
        }
        catch (ChannelClosedException)
        {
            // Stream closed by the client (end of a cell) or the session ended.
        }
        catch (ShmipcException)
        {
            // The session failed under us: the client went away.
        }
        finally
        {
            stream.Dispose();
        }
    }
}
