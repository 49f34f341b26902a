using System.Diagnostics;
using System.Net.Sockets;
using Shmipc.Channels;

namespace Shmipc.Demo;

/// <summary>
/// Ping-pong of one 64-byte message at a time (write, wait for the server's reply, repeat), timed per round trip,
/// through shmipc and through a plain Unix domain socket, against the same server process.
/// </summary>
internal static class RoundTrips
{
    public const int MessageLength = 64;

    /// <summary>Times the round trips; also returns how many of the requests had to wake the server over the socket.</summary>
    public static async Task<(LatencySummary Latency, long WakeUps)> ShmipcAsync(ShmipcSession session, int warmUp, int count, CancellationToken cancellationToken)
    {
        var payload = Payload();
        var samples = new long[count];
        var syncEventsBefore = session.SyncEventsSent;
        var stream = session.OpenStream();
        using (stream)
        {
            for (var i = -warmUp; i < count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                var lease = stream.Rent();
                payload.CopyTo(lease.GetSpan(MessageLength));
                lease.Advance(MessageLength);
                await stream.Output.WriteAsync(lease, cancellationToken);
                using (var reply = await stream.Input.ReadAsync(cancellationToken))
                {
                    if (i >= 0)
                    {
                        samples[i] = Stopwatch.GetTimestamp() - start;
                    }

                    Check(reply.Length, reply.Data.FirstSpan[0]);
                }
            }

            return (LatencySummary.FromTicks(samples), session.SyncEventsSent - syncEventsBefore);
        }
    }

    public static async Task<LatencySummary> UnixSocketAsync(string path, int warmUp, int count, CancellationToken cancellationToken)
    {
        var payload = Payload();
        var reply = new byte[MessageLength];
        var samples = new long[count];
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
        for (var i = -warmUp; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await UnixSocketFrames.SendAsync(socket, payload, cancellationToken);
            if (!await UnixSocketFrames.ReceiveAsync(socket, reply, cancellationToken))
            {
                throw new EndOfStreamException("the server closed the Unix socket.");
            }

            if (i >= 0)
            {
                samples[i] = Stopwatch.GetTimestamp() - start;
            }

            Check(reply.Length, reply[0]);
        }

        return LatencySummary.FromTicks(samples);
    }

    private static byte[] Payload()
    {
        var payload = new byte[MessageLength];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)('a' + (i % 26));
        }

        return payload;
    }

    private static void Check(int length, byte first)
    {
        // A cheap check that the reply is the server's answer, not our own bytes: full length, first letter upper-cased.
        if (length != MessageLength || first != (byte)'A')
        {
            throw new InvalidDataException($"unexpected reply: {length} bytes starting with 0x{first:x2}.");
        }
    }
}
