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
internal sealed class SpinServer(SpinLayout layout, EchoStats stats) : EchoThread
{
    protected override string ThreadName => "spin-echo";

    protected override void Run()
    {
        var seen = Volatile.Read(ref layout.Sequence(SpinLayout.RequestLine));
        while (!Stopping)
        {
            var spins = 0;
            long sequence;
            while ((sequence = Volatile.Read(ref layout.Sequence(SpinLayout.RequestLine))) == seen)
            {
                if (Stopping)
                {
                    return;
                }

                IdlePause(ref spins);
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
