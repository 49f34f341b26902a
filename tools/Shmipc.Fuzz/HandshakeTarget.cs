using Shmipc.Channels;
using Shmipc.Channels.Protocol;

namespace Shmipc.Fuzz;

/// <summary>
/// Fuzz target <c>handshake</c>: the real handshake code (v2 and v3, file paths and memfd) with the input as
/// everything the peer sends, once for each role: the server reading a client's bytes (the <c>*.c2s.bin</c>
/// vectors), then a v3 file-mode and a v3 memfd client reading a server's replies (the <c>*.s2c.bin</c> vectors).
/// </summary>
/// <remarks>
/// Contract: each role either completes or fails with a <see cref="ShmipcException"/>; any other exception escapes.
/// On the server, every fd it received is closed exactly once, by the handshake on failure or by
/// <c>ServerAnnouncement.CloseFds</c> on success; a leaked or doubly closed fd is a <see cref="FuzzContractException"/>.
/// </remarks>
public static class HandshakeTarget
{
    /// <summary>Runs the target on one input.</summary>
    /// <param name="input">The bytes the peer sends, in order (the fd message's data byte included).</param>
    public static void Run(ReadOnlySpan<byte> input)
    {
        RunServer(input);
        RunClient(input, ClientHandshakeRequest.FilePathV3("/dev/shm/fuzz_queue_0", "/dev/shm/fuzz_buffer"));
        RunClient(input, ClientHandshakeRequest.MemFdV3("fuzz_queue_0", "fuzz_buffer", bufferFd: 3, queueFd: 4));
    }

    private static void RunServer(ReadOnlySpan<byte> input)
    {
        var transport = new ScriptedHandshakeTransport(input);
        try
        {
            // Infinite: the scripted peer never blocks, and a deadline would make the outcome depend on the clock.
            ServerAnnouncement announcement = HandshakeServer.ReceiveAnnouncement(transport, Timeout.InfiniteTimeSpan, transport.CloseFd);
            if (announcement.Version is not (ProtocolConstants.Version2 or ProtocolConstants.Version3))
            {
                throw new FuzzContractException($"the server accepted protocol version {announcement.Version}: {announcement}");
            }

            HandshakeServer.Acknowledge(transport, announcement);
            announcement.CloseFds();
        }
        catch (ShmipcException)
        {
        }

        if (transport.OpenFdCount != 0)
        {
            throw new FuzzContractException($"the server handshake left {transport.OpenFdCount} received fd(s) open");
        }
    }

    private static void RunClient(ReadOnlySpan<byte> input, ClientHandshakeRequest request)
    {
        var transport = new ScriptedHandshakeTransport(input);
        try
        {
            int version = HandshakeClient.Run(transport, request, Timeout.InfiniteTimeSpan);
            if (version is not (ProtocolConstants.Version2 or ProtocolConstants.Version3))
            {
                throw new FuzzContractException($"the {request.Mode} client negotiated protocol version {version}");
            }
        }
        catch (ShmipcException)
        {
        }
    }
}
