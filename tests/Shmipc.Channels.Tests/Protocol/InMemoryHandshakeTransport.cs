using Shmipc.Channels.Protocol;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>
/// One end of an in-memory connection for handshake unit tests: two byte queues, fds passed as plain ints attached
/// to the first byte of a <see cref="SendWithFds"/> message, timeouts honoured. Records every send so tests can
/// compare the frames with the Go captures. It emulates the kernel where it matters to the handshake: a
/// <c>recvmsg</c> whose control buffer holds N fds gets at most N (extra ones are "closed" and reported in
/// <see cref="KernelDroppedFds"/>) and a control length of CMSG_SPACE(4 * delivered).
/// </summary>
internal sealed class InMemoryHandshakeTransport : IHandshakeTransport
{
    private readonly Pipe _in;
    private readonly Pipe _out;

    private InMemoryHandshakeTransport(Pipe input, Pipe output)
    {
        _in = input;
        _out = output;
    }

    public List<SentItem> Sent { get; } = [];

    public int ReceiveCalls { get; private set; }

    public List<int> KernelDroppedFds { get; } = [];

    public static (InMemoryHandshakeTransport A, InMemoryHandshakeTransport B) CreatePair()
    {
        var ab = new Pipe();
        var ba = new Pipe();
        return (new InMemoryHandshakeTransport(ba, ab), new InMemoryHandshakeTransport(ab, ba));
    }

    /// <summary>All bytes this end sent, fd messages included, in order.</summary>
    public byte[] SentBytes() => Sent.SelectMany(s => s.Data).ToArray();

    /// <summary>Ends this direction: the peer sees end of stream once it has read everything.</summary>
    public void CloseOutput() => _out.Close();

    /// <summary>Sends with a forced control length, for hostile SCM_RIGHTS tests.</summary>
    public void SendWithFdsRaw(ReadOnlySpan<byte> data, int[] fds, int controlLength)
    {
        Sent.Add(new SentItem(data.ToArray(), fds));
        _out.Write(data, fds, controlLength);
    }

    public void SendAll(ReadOnlySpan<byte> data, TimeSpan timeout)
    {
        Sent.Add(new SentItem(data.ToArray(), null));
        _out.Write(data, null, 0);
    }

    public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout)
    {
        int[] copy = fds.ToArray();
        Sent.Add(new SentItem(data.ToArray(), copy));
        _out.Write(data, copy, -1);
    }

    public void ReceiveExactly(Span<byte> buffer, TimeSpan timeout)
    {
        ReceiveCalls++;
        _in.ReadExactly(buffer, timeout);
    }

    public int ReceiveWithFds(Span<byte> data, Span<int> receivedFds, out int controlLength, out int fdCount, TimeSpan timeout)
    {
        ReceiveCalls++;
        return _in.ReadWithFds(data, receivedFds, out controlLength, out fdCount, timeout, KernelDroppedFds);
    }

    internal sealed record SentItem(byte[] Data, int[]? Fds);

    private sealed class Pipe
    {
        private readonly object _lock = new();
        private readonly List<byte> _bytes = [];
        private readonly List<(long Position, int[] Fds, int ControlLength)> _marks = [];
        private long _readPosition;
        private bool _closed;

        public void Write(ReadOnlySpan<byte> data, int[]? fds, int controlLength)
        {
            lock (_lock)
            {
                if (fds is not null)
                {
                    _marks.Add((_readPosition + _bytes.Count, fds, controlLength));
                }

                _bytes.AddRange(data.ToArray());
                Monitor.PulseAll(_lock);
            }
        }

        public void Close()
        {
            lock (_lock)
            {
                _closed = true;
                Monitor.PulseAll(_lock);
            }
        }

        public void ReadExactly(Span<byte> buffer, TimeSpan timeout)
        {
            int wanted = buffer.Length;
            byte[] result = new byte[wanted];
            lock (_lock)
            {
                WaitFor(() => _bytes.Count >= wanted || _closed, timeout);
                if (_bytes.Count < wanted)
                {
                    throw new ShmipcException(ShmipcErrorCode.PeerClosed,
                        $"in-memory transport: end of stream after {_bytes.Count} of {wanted} bytes");
                }

                Take(result);
            }

            result.CopyTo(buffer);
        }

        public int ReadWithFds(Span<byte> data, Span<int> fds, out int controlLength, out int fdCount, TimeSpan timeout, List<int> dropped)
        {
            byte[] result;
            controlLength = 0;
            fdCount = 0;
            lock (_lock)
            {
                WaitFor(() => _bytes.Count > 0 || _closed, timeout);
                if (_bytes.Count == 0)
                {
                    return 0;
                }

                int count = Math.Min(data.Length, _bytes.Count);
                int markIndex = _marks.FindIndex(m => m.Position == _readPosition);
                if (markIndex >= 0)
                {
                    (long _, int[] sentFds, int forcedControlLength) = _marks[markIndex];
                    _marks.RemoveAt(markIndex);
                    fdCount = Math.Min(sentFds.Length, fds.Length);
                    sentFds.AsSpan(0, fdCount).CopyTo(fds);
                    dropped.AddRange(sentFds.Skip(fdCount));
                    controlLength = forcedControlLength >= 0 ? forcedControlLength
                        : fdCount == 0 ? 0 : 16 + ((4 * fdCount) + 7) / 8 * 8;
                }

                result = new byte[count];
                Take(result);
            }

            result.CopyTo(data);
            return result.Length;
        }

        private void Take(byte[] destination)
        {
            _bytes.CopyTo(0, destination, 0, destination.Length);
            _bytes.RemoveRange(0, destination.Length);
            _readPosition += destination.Length;
        }

        private void WaitFor(Func<bool> condition, TimeSpan timeout)
        {
            long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
            while (!condition())
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    throw new ShmipcException(ShmipcErrorCode.Timeout, $"in-memory transport: nothing received within {timeout.TotalMilliseconds:F0} ms");
                }

                Monitor.Wait(_lock, (int)Math.Min(left, int.MaxValue));
            }
        }
    }
}
