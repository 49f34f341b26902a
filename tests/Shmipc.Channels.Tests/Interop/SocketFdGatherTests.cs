using System.Buffers;
using Shmipc.Channels.Interop;
using Xunit;

namespace Shmipc.Channels.Tests.Interop;

/// <summary>The gathered send behind fallback frames: header + many segments, in order, across short sends.</summary>
public sealed class SocketFdGatherTests
{
    [Fact]
    public async Task SendAll_HeaderAndManySegmentsThroughAFullSocket_ArriveInOrder()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        {
            // 100 segments of 3 KiB (more than one sendmsg batch, some empty) and a socket buffer far smaller than the
            // 300 KiB: the send stops and resumes mid-segment many times.
            byte[] header = [1, 2, 3, 4, 5, 6, 7, 8];
            var chunks = Enumerable.Range(0, 100).Select(i => Enumerable.Range(0, i % 10 == 9 ? 0 : 3072).Select(j => (byte)(i * 7 + j)).ToArray()).ToArray();
            var payload = Chain(chunks);
            var expected = header.Concat(chunks.SelectMany(c => c)).ToArray();

            var received = new byte[expected.Length];
            var reader = Task.Run(() => b.ReceiveExactly(received, TimeSpan.FromSeconds(10)));
            long sent = 0;
            a.SendAll(header, payload, Deadline.FromTimeout(TimeSpan.FromSeconds(10)), ref sent);
            await reader.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(expected.Length, sent);
            Assert.Equal(expected, received);
        }
    }

    [Fact]
    public void SendAll_PeerNeverReads_TimesOutAndReportsWhatWasSent()
    {
        var (a, b) = SocketFd.CreatePair();
        using (a)
        using (b)
        {
            long sent = 0;
            var payload = new ReadOnlySequence<byte>(new byte[8 * 1024 * 1024]);
            var error = Assert.Throws<ShmipcException>(() => a.SendAll([9, 9, 9, 9], payload, Deadline.FromTimeout(TimeSpan.FromMilliseconds(100)), ref sent));
            Assert.Equal(ShmipcErrorCode.Timeout, error.ErrorCode);
            Assert.InRange(sent, 1, 8 * 1024 * 1024);
        }
    }

    private static ReadOnlySequence<byte> Chain(byte[][] chunks)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (var chunk in chunks)
        {
            var segment = new Segment(chunk, last is null ? 0 : last.RunningIndex + last.Memory.Length);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.SetNext(segment);
            }

            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
