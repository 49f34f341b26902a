namespace Shmipc.Channels;

/// <summary><see cref="System.IO.Stream"/> over a <see cref="ShmipcStream"/>.</summary>
public static class ShmipcStreamIOExtensions
{
    /// <summary>
    /// A <see cref="Stream"/> over <paramref name="stream"/>: reads return the bytes of the peer's messages in order,
    /// across message boundaries; writes copy the caller's bytes straight into shared memory and publish them at once.
    /// </summary>
    /// <param name="stream">The shmipc stream. Its <see cref="ShmipcStream.Input"/> and <see cref="ShmipcStream.Output"/>
    /// belong to the returned stream from now on: do not read or write them alongside it.</param>
    /// <param name="leaveOpen">
    /// false (the default): disposing the returned stream disposes <paramref name="stream"/> (closing it towards the
    /// peer). true: disposing it only drops the unread rest of the message being read; <paramref name="stream"/> stays open.
    /// </param>
    /// <returns>A non-seekable stream; one read may run alongside one write (a duplex stream), like a socket's.</returns>
    /// <remarks>
    /// <para><b>Writes.</b> Each write becomes one shmipc message (a write larger than 1 MiB becomes several) that is
    /// copied once, from the caller's buffer into shared memory, and is in the peer's queue when the write returns:
    /// <see cref="Stream.Flush"/> and <see cref="Stream.FlushAsync(CancellationToken)"/> have nothing left to do. Each
    /// message costs a queue element and, when the peer is waiting, a wake-up, so wrap the stream in a
    /// <see cref="BufferedStream"/> to coalesce many small writes (then Flush sends what it buffered). An empty write
    /// sends nothing (shmipc has no empty message).</para>
    /// <para><b>Reads.</b> A read returns as soon as at least one byte is there: the rest of the current message and
    /// whatever further messages already arrived, up to the buffer's size; the next read continues in the middle of a
    /// message where the last one stopped. Each message's shared memory is released as soon as it has been read to its
    /// end. A read of zero bytes waits until data is available (or the end of the stream) without consuming anything,
    /// as a socket's does. A read returns 0 once the peer closed the stream and everything was read.</para>
    /// <para><b>Errors and cancellation.</b> A failed session fails reads and writes with an <see cref="IOException"/>
    /// whose inner exception is the session's <see cref="ShmipcException"/>; a write after the peer closed the stream
    /// fails the same way (<see cref="ShmipcErrorCode.StreamClosed"/>), as does a write that timed out
    /// (<see cref="ShmipcOptions.WriteTimeout"/>). A cancelled read or write throws
    /// <see cref="OperationCanceledException"/> and loses nothing: a cancelled read consumed no byte, a cancelled write
    /// sent none (a write larger than 1 MiB may have sent its first messages), and the stream stays usable.</para>
    /// <para><b>Closing.</b> shmipc closes a stream in both directions at once; there is no half-close. Disposing the
    /// returned stream ends a pending read with 0 (or <see cref="ObjectDisposedException"/>); the peer reads what was
    /// written, then the end of its stream, and its writes fail from then on. So read every reply you expect before
    /// disposing, as with <see cref="ShmipcStream.CloseOutput"/>.</para>
    /// </remarks>
    public static Stream AsStream(this ShmipcStream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new Adapters.ShmipcByteStream(stream, leaveOpen);
    }
}
