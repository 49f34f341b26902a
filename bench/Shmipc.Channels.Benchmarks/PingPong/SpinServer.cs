namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The spin floor's child side (<c>pingpong-server --transport spin --file PATH</c>): a thread that waits for the
/// request sequence number to change, checksums every byte of the request, copies it into the reply area and publishes
/// the reply sequence number; the same work as the echo servers, with nothing between the processes but shared memory.
/// </summary>
/// <remarks>
/// Between cells nobody sends: after about a millisecond without a request the thread sleeps 1 ms between looks, so
/// an idle spin child does not take a core from the other transports' cells.
/// </remarks>
internal sealed class SpinServer(SpinLayout layout, EchoStats stats)
{
    private volatile bool _stop;

    public Thread Start()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "spin-echo" };
        thread.Start();
        return thread;
    }

    public void Stop() => _stop = true;

    private void Run()
    {
        var seen = Volatile.Read(ref layout.Sequence(SpinLayout.RequestLine));
        while (!_stop)
        {
            var spins = 0;
            long sequence;
            while ((sequence = Volatile.Read(ref layout.Sequence(SpinLayout.RequestLine))) == seen)
            {
                if (_stop)
                {
                    return;
                }

                if (spins > 1 << 16)
                {
                    Thread.Sleep(1);
                }
                else
                {
                    SpinLayout.Pause(ref spins);
                }
            }

            seen = sequence;
            var length = layout.Length(SpinLayout.RequestLine);
            var request = layout.RequestArea(length);
            if (MessageSet.Verify(request, out _))
            {
                stats.Ok(length);
            }
            else
            {
                stats.Mismatch("spin request", length);
            }

            request.CopyTo(layout.ReplyArea(length));
            layout.Length(SpinLayout.ReplyLine) = length;
            Volatile.Write(ref layout.Sequence(SpinLayout.ReplyLine), sequence);
        }
    }
}
