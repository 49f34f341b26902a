using System.Buffers.Binary;
using System.Text.Json;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Sessions;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Vectors;

/// <summary>
/// Whole sessions against bytes captured from shmipc-go, over a real socketpair: the Go client's bytes replayed to the
/// .NET server, and the .NET client's bytes and shared memory compared with the Go client's.
/// </summary>
public sealed class SessionVectorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task DotNetServer_accepts_the_Go_memfd_client_and_reads_its_message()
    {
        // Scenario C: the Go client's v3 memfd handshake, its SMALL region and 16-slot queue, then its 3000-byte message.
        var c2s = VectorFiles.ReadAllBytes("streams", "C_memfd_v3_small.conn0.c2s.bin");
        var s2c = VectorFiles.ReadAllBytes("handshake", "v3_memfd.s2c.bin");
        var (client, serverEnd) = SocketFd.CreatePair();
        using var _ = client;
        using var buffer = SharedRegion.CreateMemFd("shmipc-test-buffer", 1024 * 1024);
        using var queue = SharedRegion.CreateMemFd("shmipc-test-queue", 432);
        VectorFiles.ReadAllBytes("shm", "B_small_region_after_init.bin").CopyTo(buffer.GetSpan(0, 1024 * 1024));
        VectorFiles.ReadAllBytes("shm", "B_small_queue_q16_after_init.bin").CopyTo(queue.GetSpan(0, 432));

        var accept = Task.Run(() => ServerSessionFactory.Accept(serverEnd, new ShmipcServerOptions(), null));
        var reply = new byte[8];
        client.SendAll(c2s.AsSpan(0, 8), Timeout);                      // ExchangeProtoVersion v3
        client.ReceiveExactly(reply, Timeout);
        Assert.Equal(s2c[..8], reply);
        client.SendAll(c2s.AsSpan(8, 69), Timeout);                     // ShareMemoryByMemfd with Go's names
        client.ReceiveExactly(reply, Timeout);
        Assert.Equal(s2c[8..16], reply);                                // AckReadyRecvFD
        Assert.Equal(0, c2s[77]);
        client.SendWithFds(c2s.AsSpan(77, 1), [buffer.FileDescriptor.Fd, queue.FileDescriptor.Fd], Timeout);
        client.ReceiveExactly(reply, Timeout);
        Assert.Equal(s2c[16..24], reply);                               // AckShareMemory
        var session = ShmipcSession.Of(await accept.WaitAsync(Timeout));
        await using var __ = session;
        Assert.Equal(3, session.ProtocolVersion);
        Assert.Equal("/dev/shm/shmipc_27762_queue_0", session.Name);

        // The Go client's first message, exactly as it left the memory, announced by its Polling frame.
        VectorFiles.ReadAllBytes("shm", "B_small_region_after_msg1_3000.bin").CopyTo(buffer.GetSpan(0, 1024 * 1024));
        VectorFiles.ReadAllBytes("shm", "B_small_queue_q16_after_msg1_3000.bin").AsSpan(0, 216).CopyTo(queue.GetSpan(0, 216));
        client.SendAll(c2s.AsSpan(78, 8), Timeout);
        using var cts = new CancellationTokenSource(Timeout);
        var stream = await session.AcceptStreamAsync(cts.Token);
        Assert.Equal(2u, stream.Id);
        using (var message = await stream.Input.ReadAsync(cts.Token))
        {
            var bytes = message.ToArray();
            Assert.Equal(3000, bytes.Length);
            for (var i = 0; i < bytes.Length; i++)
            {
                Assert.Equal((byte)(i % 251), bytes[i]);
            }
        }

        // Disposing the lease recycled the slice into the Go client's list 1 (127 slices, all free again).
        var list1 = BinaryPrimitives.ReadInt32LittleEndian(buffer.GetSpan(524_132, 4));
        Assert.Equal(127, list1);
    }

    [Fact]
    public async Task DotNetClient_writes_the_bytes_and_memory_the_Go_client_wrote()
    {
        // Scenario A: default config, file mode, protocol v2; the client sends 3000 bytes mod 251 on stream 2.
        var goC2s = VectorFiles.ReadAllBytes("streams", "A_file_v2_default.conn0.c2s.bin");
        var (clientEnd, server) = SocketFd.CreatePair();
        using var _ = server;
        var options = new ShmipcClientOptions
        {
            MemoryMapType = MemoryMapType.DevShmFile,
            PathPrefix = $"/dev/shm/shmipc_vec_{Guid.NewGuid():N}"[..40],
        };
        using var cts = new CancellationTokenSource(Timeout);
        var connect = Task.Run(() => ClientSessionFactory.Connect(_ => clientEnd, options, cts.Token));
        var clientSession = ShmipcSession.Of(await connect.WaitAsync(Timeout));
        await using var __ = clientSession;

        // The announcement: Go's frame with only the names changed.
        var header = new byte[8];
        server.ReceiveExactly(header, Timeout);
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(header);
        var frame = new byte[length];
        header.CopyTo(frame, 0);
        server.ReceiveExactly(frame.AsSpan(8), Timeout);
        var announced = ShareMemoryAnnouncement.Read(frame);
        var expected = new byte[announced.GetFrameLength()];
        announced.Write(expected, 2, EventType.ShareMemoryByFilePath);
        Assert.Equal(expected, frame);
        Assert.Equal(goC2s.AsSpan(4, 4).ToArray(), frame.AsSpan(4, 4).ToArray());          // magic, v2, type 0
        var goAnnounced = ShareMemoryAnnouncement.Read(goC2s.AsSpan(0, 69));
        Assert.Matches(@"^/dev/shm/shmipc_vec_[0-9a-f]+_\d+_[0-9a-f]{16}_queue_\d+$", announced.QueuePath);
        Assert.Matches(@"^/dev/shm/shmipc_vec_[0-9a-f]+_\d+_[0-9a-f]{16}_buffer$", announced.BufferPath);
        Assert.Matches(@"^/dev/shm/shmipc_\d+_queue_0$", goAnnounced.QueuePath);

        using var region = SharedRegion.OpenFile(announced.BufferPath);
        using var queue = SharedRegion.OpenFile(announced.QueuePath);
        region.DeleteOnDispose = false;
        queue.DeleteOnDispose = false;
        AssertRegionParts(region, "A_default_region_parts_after_init.json");
        Assert.Equal(VectorFiles.ReadAllBytes("shm", "A_default_queue_q8192_after_init.bin"), QueueBytes(queue));

        // First message: the same slice, the same headers, the same queue element, the same SyncEvent as Go.
        var stream = clientSession.OpenStream();
        Assert.Equal(2u, stream.Id);
        var payload = new byte[3000];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i % 251);
        }

        await stream.WriteAsync(payload, cts.Token);
        var polling = new byte[8];
        server.ReceiveExactly(polling, Timeout);
        Assert.Equal(goC2s.AsSpan(69, 8).ToArray(), polling);
        AssertRegionParts(region, "A_default_region_parts_after_msg3000.json");
        Assert.Equal(VectorFiles.ReadAllBytes("shm", "A_default_queue_q8192_after_msg3000.bin"), QueueBytes(queue));
    }

    /// <summary>
    /// The queue object's bytes, with the client's own receive-queue working flag cleared: that flag is the client
    /// reactor's state (it holds it while it polls for other sessions of this test process), not something it sent.
    /// </summary>
    private static byte[] QueueBytes(SharedRegion queue)
    {
        var bytes = queue.GetSpan(0, (int)queue.Length).ToArray();
        var receiveFlag = (int)(queue.Length / 2) + QueueLayout.Amd64.WorkingFlagOffset;
        bytes.AsSpan(receiveFlag, 4).Clear();
        return bytes;
    }

    private static void AssertRegionParts(SharedRegion region, string indexName)
    {
        using var index = JsonDocument.Parse(VectorFiles.ReadAllBytes("shm", indexName));
        var bin = VectorFiles.ReadAllBytes(index.RootElement.GetProperty("bin").GetString()!.Split('/'));
        foreach (var part in index.RootElement.GetProperty("index").EnumerateArray())
        {
            var fileOffset = part.GetProperty("file_offset").GetInt32();
            var regionOffset = part.GetProperty("region_offset").GetInt32();
            var partLength = part.GetProperty("length").GetInt32();
            var expected = bin.AsSpan(fileOffset, partLength).ToArray();
            var actual = region.GetSpan(regionOffset, partLength).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{indexName}: part '{part.GetProperty("name").GetString()}' at region offset {regionOffset} differs");
        }
    }
}
