using System.Net.Sockets;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The Unix-domain-socket side of the pingpong server child: each connection echoes length-prefixed frames (receive,
/// checksum every byte, copy every byte into a reply frame, send) until the client closes it; a connection that opens
/// with <see cref="MessageSet.Hello"/> is one-way (verify only, echo just the sync message). Async (SocketAsyncEngine,
/// continuations on the thread pool) or one blocking thread per connection, matching the client's --uds-api.
/// </summary>
internal sealed class UdsEchoServer(Socket listener, EchoStats stats, bool synchronous)
{
    public async Task RunAsync()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (synchronous)
            {
                _ = Task.Factory.StartNew(() => Echo(connection), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            else
            {
                _ = Task.Run(() => EchoAsync(connection));
            }
        }
    }

    private async Task EchoAsync(Socket connection)
    {
        var reader = new UdsFrameReader();
        var reply = new FrameBuffer(64 * 1024);
        var sink = false;
        try
        {
            while (true)
            {
                var length = await reader.ReceiveAsync(connection).ConfigureAwait(false);
                if (length < 0 || !Check(reader.Payload, ref sink, out var echo))
                {
                    return;
                }

                if (echo)
                {
                    Copy(reader.Payload, reply);
                    await UdsFraming.SendAsync(connection, reply.Array.AsMemory(0, FrameBuffer.PrefixSize + length)).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            connection.Dispose();
        }
    }

    private void Echo(Socket connection)
    {
        var reader = new UdsFrameReader();
        var reply = new FrameBuffer(64 * 1024);
        var sink = false;
        try
        {
            while (true)
            {
                var length = reader.Receive(connection);
                if (length < 0 || !Check(reader.Payload, ref sink, out var echo))
                {
                    return;
                }

                if (echo)
                {
                    Copy(reader.Payload, reply);
                    UdsFraming.Send(connection, reply.Array.AsSpan(0, FrameBuffer.PrefixSize + length));
                }
            }
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            connection.Dispose();
        }
    }

    private static void Copy(ReadOnlySpan<byte> payload, FrameBuffer reply)
    {
        UdsFraming.WritePrefix(reply, payload.Length);
        payload.CopyTo(reply.Array.AsSpan(FrameBuffer.PrefixSize));
    }

    // Verifies every byte; decides whether to echo: always on a ping-pong connection; on a one-way connection (opened
    // by the hello message) only the sync message that ends a burst.
    private bool Check(ReadOnlySpan<byte> payload, ref bool sink, out bool echo)
    {
        echo = false;
        if (!MessageSet.Verify(payload, out _))
        {
            stats.Mismatch("uds connection", payload.Length);
            return false;
        }

        stats.Ok(payload.Length);
        if (!sink && payload.SequenceEqual(MessageSet.Hello))
        {
            sink = true;
            echo = true;
        }
        else
        {
            echo = !sink || payload.Length == MessageSet.SyncSize;
        }

        return true;
    }
}
