// Property: hostile input against a real session. A real client session (ClientSessionFactory over a socketpair, real
// memfd region and queues, the shared reactor) faces a server end built by hand on the other socket, with the client's
// queue and buffer region mapped. The server end sends frame bytes, queue elements and slice chains: well-formed,
// mutated, truncated, out of range, looping. Invariant: within 10 s the session either delivers the valid message
// (every byte as written, and every slice back on the free lists once the lease is disposed) or ends with a
// ShmipcException that says what was wrong; reads fail with that exception inside; nothing else is thrown and the
// process does not crash. 100 cases in CI; SHMIPC_PROPS_LOCAL=1 runs 100 000.
using System.Buffers;
using System.Threading.Channels;
using FsCheck;
using FsCheck.Fluent;
using Shmipc.Channels.Interop;
using Shmipc.Channels.Memory;
using Shmipc.Channels.Protocol;
using Shmipc.Channels.Sessions;
using Xunit;

namespace Shmipc.Channels.Properties;

public sealed class SessionInputProperties
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static int Cases => Environment.GetEnvironmentVariable("SHMIPC_PROPS_LOCAL") == "1" ? 100_000 : 100;

    [Fact]
    public void Hostile_input_closes_the_session_with_a_clear_error_or_is_delivered_intact()
    {
        var property = Prop.ForAll(Generators.SessionInputs(), (SessionInputCase input) =>
            Task.Run(() => RunAsync(input)).GetAwaiter().GetResult().Label(input.ToString()));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases), property);
    }

    private static async Task<Property> RunAsync(SessionInputCase input)
    {
        await using var peer = await RawServerEnd.StartAsync();
        var session = peer.Client;
        var stream = session.OpenStream();
        await stream.WriteAsync(new byte[] { 1 }); // a client accepts data only on streams it opened
        var baseline = session.Statistics.SlicesInUse;
        var pattern = (byte)(input.Size * 31);
        switch (input.Kind)
        {
            case SessionInputKind.FrameBytes:
                try
                {
                    peer.Socket.SendAll(input.Frame, Timeout);
                }
                catch (ShmipcException)
                {
                    // The client already closed on an earlier part of the bytes.
                }

                peer.Socket.Dispose(); // truncated frames end here: the session must not wait for the rest
                break;
            case SessionInputKind.OutOfRangeElement:
                peer.Put(new QueueElement(stream.Id, input.Offset, 0));
                break;
            default:
                var slices = peer.WriteChain(input.Size, pattern);
                if (input.Kind == SessionInputKind.MutatedChain)
                {
                    peer.Mutate(slices[input.Field == 2 ? 0 : slices.Length - 1], input.Field, input.Value);
                }
                else if (input.Kind == SessionInputKind.LoopingChain)
                {
                    peer.Mutate(slices[^1], 2, slices[0]);
                    peer.Mutate(slices[^1], 3, BufferManagerLayout.SliceFlagHasNext | BufferManagerLayout.SliceFlagInUse);
                }

                peer.Put(new QueueElement(input.Kind == SessionInputKind.UnknownStream ? input.Value | 1 : stream.Id, slices[0], 0));
                break;
        }

        // Wait for a delivery, the session's end, or (for a message the client may drop) the element consumed and its
        // slices back on the free lists.
        var read = stream.Input.ReadAsync().AsTask();
        var droppable = input.Kind is SessionInputKind.UnknownStream or SessionInputKind.MutatedChain;
        var until = DateTime.UtcNow + Timeout;
        var dropped = false;
        while (!read.IsCompleted && !session.Completion.IsCompleted && DateTime.UtcNow < until)
        {
            if (droppable && peer.QueueDrained && !session.IsClosed && session.Statistics.SlicesInUse <= baseline)
            {
                dropped = true;
                break;
            }

            await Task.Delay(2);
        }

        if (read.IsCompletedSuccessfully)
        {
            using (var lease = read.Result)
            {
                if (input.Kind == SessionInputKind.ValidElement)
                {
                    var data = lease.Data.ToArray();
                    if (data.Length != input.Size || data.Any(b => b != pattern))
                    {
                        return false.Label($"the valid message came back as {data.Length} bytes, not {input.Size} bytes of {pattern}");
                    }
                }
            }

            // Delivered (valid, or a mutation the client may accept, such as a larger size within the slice): every
            // slice returns to the free lists, or the session closes.
            var deadline = DateTime.UtcNow + Timeout;
            while (!session.IsClosed && session.Statistics.SlicesInUse > baseline && DateTime.UtcNow < deadline)
            {
                await Task.Delay(2);
            }

            return (session.IsClosed || session.Statistics.SlicesInUse <= baseline)
                .Label($"slices lost: {session.Statistics} (before: {baseline} in use)")
                .Classify(true, $"{input.Kind}: delivered");
        }

        if (dropped)
        {
            // Only a message for a stream the client does not know (or one a mutation moved there) is dropped quietly,
            // and its slices came back.
            return true.Classify(true, $"{input.Kind}: dropped");
        }

        // A failed read comes first; the session's end follows it.
        var error = await Record(session.Completion);
        if (error is TimeoutException)
        {
            return false.Label($"within {Timeout.TotalSeconds:0} s neither delivered, dropped with every slice back, nor closed: read {read.Status}, {session.Statistics} (before: {baseline} in use)");
        }

        if (error is not ShmipcException shmipc || string.IsNullOrWhiteSpace(shmipc.Message))
        {
            return false.Label($"the session ended with {error?.GetType().Name ?? "no error"}: {error}");
        }

        var readError = await Record(read);
        var readOk = readError is ChannelClosedException { InnerException: ShmipcException } or null;
        return readOk.Label($"the pending read ended with {readError}").Classify(true, $"{input.Kind}: closed ({shmipc.ErrorCode})");
    }

    private static async Task<Exception?> Record(Task task)
    {
        try
        {
            await task.WaitAsync(Timeout);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>The server end of a real client session, by hand: the handshake, the client's queue and region mapped.</summary>
    private sealed class RawServerEnd : IAsyncDisposable
    {
        private readonly SharedRegion _queue;
        private readonly SharedRegion _buffer;
        private readonly IoQueuePair _queues;
        private readonly BufferManager _manager;

        private RawServerEnd(ShmipcSession client, SocketFd socket, SharedRegion queue, SharedRegion buffer)
        {
            Client = client;
            Socket = socket;
            _queue = queue;
            _buffer = buffer;
            unsafe
            {
                _queues = IoQueuePair.Map(queue.Base, queue.Length);
                _manager = BufferManager.Map(buffer.Base, buffer.Length);
            }
        }

        public ShmipcSession Client { get; }

        public SocketFd Socket { get; }

        /// <summary>True once the client took every element from the server → client queue.</summary>
        public bool QueueDrained => _queues.SendQueue.Count == 0;

        public static async Task<RawServerEnd> StartAsync()
        {
            var (clientEnd, server) = SocketFd.CreatePair();
            var options = new ShmipcClientOptions
            {
                QueueCapacity = 16,
                BufferCapacity = 1024 * 1024,
                SizeClasses = [new(1024, 100)],
                PathPrefix = $"/dev/shm/shmipc_props_{Guid.NewGuid():N}",
            };
            var connect = Task.Run(() => ClientSessionFactory.Connect(_ => clientEnd, options, CancellationToken.None));
            var transport = new SocketHandshakeTransport(server);
            var announcement = HandshakeServer.ReceiveAnnouncement(transport, Timeout, static fd => new SafeFdHandle(fd, true).Dispose());
            var (bufferFd, queueFd) = announcement.TakeFds();
            var buffer = SharedRegion.OpenFd(new SafeFdHandle(bufferFd, true), announcement.BufferPath);
            var queue = SharedRegion.OpenFd(new SafeFdHandle(queueFd, true), announcement.QueuePath);
            HandshakeServer.Acknowledge(transport, announcement);
            var session = await connect.WaitAsync(Timeout);
            return new RawServerEnd(ShmipcSession.Of(session), server, queue, buffer);
        }

        /// <summary>Allocates ⌈size / 1 KiB⌉ slices, fills them with <paramref name="pattern"/>, links them; returns their offsets.</summary>
        public uint[] WriteChain(int size, byte pattern)
        {
            var slices = new uint[(size + 1023) / 1024];
            var left = size;
            for (var i = 0; i < slices.Length; i++)
            {
                if (!_manager.TryAllocate(1024, out slices[i]))
                {
                    throw new InvalidOperationException("the fresh region has no free slice");
                }

                var length = Math.Min(left, 1024);
                _manager.GetSliceData(slices[i])[..length].Fill(pattern);
                _manager.SetSliceLength(slices[i], length);
                left -= length;
            }

            _manager.LinkChain(slices);
            return slices;
        }

        /// <summary>Overwrites slice header field <paramref name="field"/> (0 size, 1 start, 2 next, 3 flags) of <paramref name="slice"/>.</summary>
        public unsafe void Mutate(uint slice, int field, uint value)
        {
            var header = _buffer.Base + slice;
            switch (field)
            {
                case 0:
                    *(uint*)(header + BufferManagerLayout.SliceSizeOffset) = value;
                    break;
                case 1:
                    *(uint*)(header + BufferManagerLayout.SliceStartOffset) = value;
                    break;
                case 2:
                    *(uint*)(header + BufferManagerLayout.SliceNextOffset) = value;
                    break;
                default:
                    header[BufferManagerLayout.SliceFlagsOffset] = (byte)value;
                    break;
            }
        }

        /// <summary>Puts an element into the server → client queue and wakes the client (Polling frame).</summary>
        public void Put(QueueElement element)
        {
            if (!_queues.SendQueue.TryPut(element))
            {
                throw new InvalidOperationException("the server → client queue is full");
            }

            _queues.SendQueue.MarkWorking();
            var frame = new byte[ProtocolConstants.HeaderSize];
            HeaderOnlyFrame.Write(frame, ProtocolConstants.Version3, EventType.Polling);
            try
            {
                Socket.SendAll(frame, Timeout);
            }
            catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.PeerClosed)
            {
                // The client's reactor found the element first and already closed the session.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            Socket.Dispose();
            _queue.Dispose();
            _buffer.Dispose();
        }
    }
}
