using System.Net.Sockets;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The Unix-domain-socket side of the pingpong server child: each connection echoes length-prefixed frames (receive,
/// checksum every byte, copy every byte into a reply frame, send) until the client closes it. Async (SocketAsyncEngine,
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
        var request = new FrameBuffer(64 * 1024);
        var reply = new FrameBuffer(64 * 1024);
        try
        {
            while (true)
            {
                var length = await UdsFraming.ReceiveAsync(connection, request).ConfigureAwait(false);
                if (length < 0 || !Check(request, length))
                {
                    return;
                }

                UdsFraming.WritePrefix(reply, length);
                request.Array.AsSpan(FrameBuffer.PrefixSize, length).CopyTo(reply.Array.AsSpan(FrameBuffer.PrefixSize));
                await UdsFraming.SendAsync(connection, reply.Array.AsMemory(0, FrameBuffer.PrefixSize + length)).ConfigureAwait(false);
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
        var request = new FrameBuffer(64 * 1024);
        var reply = new FrameBuffer(64 * 1024);
        try
        {
            while (true)
            {
                var length = UdsFraming.Receive(connection, request);
                if (length < 0 || !Check(request, length))
                {
                    return;
                }

                UdsFraming.WritePrefix(reply, length);
                request.Array.AsSpan(FrameBuffer.PrefixSize, length).CopyTo(reply.Array.AsSpan(FrameBuffer.PrefixSize));
                UdsFraming.Send(connection, reply.Array.AsSpan(0, FrameBuffer.PrefixSize + length));
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

    private bool Check(FrameBuffer request, int length)
    {
        if (!MessageSet.Verify(request.Array.AsSpan(FrameBuffer.PrefixSize, length), out _))
        {
            stats.Mismatch("uds connection", length);
            return false;
        }

        stats.Ok(length);
        return true;
    }
}
