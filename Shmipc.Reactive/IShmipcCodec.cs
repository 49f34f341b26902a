using System.Buffers;

namespace Shmipc.Reactive;

/// <summary>
/// Turns items into message bytes and back, in place: <see cref="Encode"/> writes straight into shared memory (the
/// writer is the lease of the outgoing message), <see cref="Decode"/> reads the received bytes where they lie.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// <para>Ready codecs are in <see cref="ShmipcCodecs"/>. An implementation must be safe to call from several threads
/// at once (one codec serves many streams) and must not keep <c>data</c> or anything sliced from it after
/// <see cref="Decode"/> returns: the lease under it is disposed right after.</para>
/// <para>Exceptions are expected: one from <see cref="Decode"/> ends the observing side's sequence with
/// <c>OnError</c> (a <see cref="Shmipc.Channels.ShmipcException"/> naming the stream, the exception as its inner
/// exception); one from <see cref="Encode"/> ends the writer and reaches the other side as <c>OnError</c>.</para>
/// </remarks>
public interface IShmipcCodec<T>
{
    /// <summary>Writes <paramref name="value"/> into <paramref name="writer"/>.</summary>
    /// <param name="value">The item.</param>
    /// <param name="writer">
    /// The outgoing message. <c>GetSpan()</c>/<c>GetMemory()</c> without a size hint return the rest of the current
    /// shared-memory slice (or a fresh one), so writing piecewise chains slices; a size hint larger than the largest
    /// slice moves the whole message to the heap, and it then travels over the socket (shmipc fallback).
    /// </param>
    void Encode(T value, IBufferWriter<byte> writer);

    /// <summary>Reads one item from the bytes of a message.</summary>
    /// <param name="data">The message, without the envelope byte; one segment per shared-memory slice.</param>
    /// <returns>The item; it must not refer to <paramref name="data"/>.</returns>
    T Decode(ReadOnlySequence<byte> data);
}
