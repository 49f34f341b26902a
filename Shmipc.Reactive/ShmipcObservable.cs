using Shmipc.Channels;
using Shmipc.Reactive.Linq;

namespace Shmipc.Reactive;

/// <summary>
/// Rx over Shmipc.Channels: sessions, streams and messages as <see cref="IObservable{T}"/>, and observables written to
/// a stream with back-pressure. This class only checks arguments and hands over to one operator each.
/// </summary>
/// <example>
/// Process A writes typed items; process B composes a pipeline and writes the results back on a second stream:
/// <code>
/// // A (client): stream 2 carries orders out, stream 3 brings totals back.
/// var orders = session.OpenStream();
/// var totals = session.OpenStream();
/// using var sub = totals.Observe(ShmipcCodecs.Json(AppJson.Default.Total)).Subscribe(Console.WriteLine);
/// await source.WriteTo(orders, ShmipcCodecs.Json(AppJson.Default.Order), ct);
///
/// // B (server): observe the first stream, write to the second.
/// var input = await session.AcceptStreamAsync(ct);
/// var output = await session.AcceptStreamAsync(ct);
/// await input.Observe(ShmipcCodecs.Json(AppJson.Default.Order))
///     .Where(o => o.Quantity > 0)
///     .Scan(new Total(0, 0m), (t, o) => new Total(t.Count + 1, t.Amount + o.Price * o.Quantity))
///     .WriteTo(output, ShmipcCodecs.Json(AppJson.Default.Total), ct);
/// </code>
/// </example>
/// <remarks>
/// <para>Every observable here reads a <c>ChannelReader</c>: all that is readable on a wake-up is delivered in one go
/// (<c>TryRead</c> until empty, then one <c>WaitToReadAsync</c>); there are no timers and no polling. Notifications are
/// serialized and follow the Rx grammar; they run on the thread pool, never on the shmipc reactor thread. An exception
/// thrown by the observer's <c>OnNext</c> (or by a codec) ends the sequence with <c>OnError</c>; it never reaches the
/// reader loop.</para>
/// <para>Typed sequences (<see cref="Observe{T}"/> and <see cref="AsObserver{T}"/>/<see cref="WriteTo{T}"/>) speak a
/// small envelope on top of shmipc messages (an item/error/completion tag, and credits flowing back), so both ends must
/// use Shmipc.Reactive. A stream carries one typed sequence in one direction; use a second stream for replies.
/// <see cref="ObserveLeases"/> is the raw view, compatible with any shmipc peer.</para>
/// </remarks>
public static class ShmipcObservable
{
    private const int DefaultPrefetch = 32;
    private const int DefaultCapacity = 32;

    /// <summary>
    /// The stream's incoming messages as they arrive (no envelope, any shmipc peer): each <c>OnNext</c> hands a lease
    /// over the bytes in shared memory to the observer, which must dispose it. Completes when the peer closes the
    /// stream; fails with the session's <see cref="ShmipcException"/> when the session fails.
    /// </summary>
    /// <param name="stream">The stream to read.</param>
    /// <returns>A sequence of leases; subscribe once at a time (concurrent subscriptions split the messages).</returns>
    /// <remarks>Disposing the subscription stops reading; messages not yet read stay in <see cref="ShmipcStream.Input"/>
    /// (disposing the stream recycles them). A lease read but not yet delivered when the subscription is disposed is
    /// disposed by the operator. One Rx caveat: an operator that stops early (such as <c>Take</c>) while messages are
    /// already readable at subscription time can be handed a lease before it holds the subscription it would dispose;
    /// Rx drops such a value, and with it the lease. Subscribe before the traffic starts, or turn leases into values
    /// (disposing them) before such operators: <c>.Select(l =&gt; { using (l) { return Decode(l.Data); } }).Take(5)</c>.</remarks>
    public static IObservable<ShmLease> ObserveLeases(this ShmipcStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new ObserveChannel<ShmLease>.Producer(stream.Input, static lease => lease.Dispose());
    }

    /// <summary>
    /// The typed sequence written to this stream by a <see cref="ShmipcStreamObserver{T}"/> (<see cref="AsObserver{T}"/>,
    /// <see cref="WriteTo{T}"/>) on the other side, decoded with <paramref name="codec"/>.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="stream">The stream; the subscription owns it and closes it when the sequence ends or is disposed.</param>
    /// <param name="codec">Decodes the items; each lease is decoded and disposed before <c>OnNext</c>.</param>
    /// <param name="prefetch">
    /// How many items the writer may send ahead of consumption (default 32): the receive window. Credits are returned
    /// as <c>OnNext</c> calls return, so a slow observer slows the writer and at most this many items wait here.
    /// </param>
    /// <returns>A cold sequence; subscribe once (the subscription consumes the stream).</returns>
    /// <remarks>
    /// <para>The writer's <c>OnError</c> arrives as <c>OnError</c> with a <see cref="ShmipcException"/> whose
    /// <see cref="ShmipcException.ErrorCode"/> is <see cref="ShmipcErrorCode.StreamAborted"/> and whose message names the
    /// stream and carries the reason. A message the codec cannot decode ends the sequence with a
    /// <see cref="ShmipcException"/> (<see cref="ShmipcErrorCode.ProtocolViolation"/>) naming the stream and the item,
    /// the codec's exception inside. A stream closed before the writer's completion fails with
    /// <see cref="ShmipcErrorCode.StreamClosed"/>; a failed session with its reason.</para>
    /// <para>Disposing the subscription tells the writer to stop, releases every message that still arrives until it
    /// has stopped, then closes the stream: no lease is left behind.</para>
    /// </remarks>
    public static IObservable<T> Observe<T>(this ShmipcStream stream, IShmipcCodec<T> codec, int prefetch = DefaultPrefetch)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefetch, 1);
        return new ObserveMessages<T>.Producer(stream, codec, prefetch);
    }

    /// <summary>
    /// Sessions whose handshake succeeded, as the listener accepts them. Completes when the listener is disposed.
    /// </summary>
    /// <param name="listener">The listener.</param>
    /// <returns>A sequence of sessions; the observer owns each session it receives.</returns>
    public static IObservable<ShmipcSession> ObserveSessions(this ShmipcListener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        return new ObserveChannel<ShmipcSession>.Producer(listener.Sessions, static s => _ = s.DisposeAsync().AsTask());
    }

    /// <summary>
    /// Streams the peer opens on this (server) session, in the order their first message arrives. Completes when the
    /// session closes locally; fails with the reason when it fails.
    /// </summary>
    /// <param name="session">The session.</param>
    /// <returns>A sequence of streams; the observer owns each stream it receives.</returns>
    public static IObservable<ShmipcStream> ObserveStreams(this ShmipcSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new ObserveChannel<ShmipcStream>.Producer(session.IncomingStreams, static s => s.Dispose());
    }

    /// <summary>
    /// An observer that writes the items it receives to <paramref name="stream"/> with back-pressure, for an
    /// <see cref="Observe{T}"/> on the other side. Subscribe it to a source and await
    /// <see cref="ShmipcStreamObserver{T}.Completion"/>; see <see cref="ShmipcStreamObserver{T}"/> for what
    /// <c>OnNext</c> does when the source outruns the other side (it blocks).
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="stream">The stream; the observer owns it and disposes it when done.</param>
    /// <param name="codec">Encodes the items straight into shared memory.</param>
    /// <param name="capacity">Items accepted ahead of the writer before <c>OnNext</c> blocks (default 32).</param>
    /// <returns>The observer; it starts by announcing itself on the stream.</returns>
    public static ShmipcStreamObserver<T> AsObserver<T>(this ShmipcStream stream, IShmipcCodec<T> codec, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        return new ShmipcStreamObserver<T>(stream, codec, capacity);
    }

    /// <summary>
    /// Writes the source to <paramref name="stream"/> through <paramref name="codec"/>, with back-pressure, and completes
    /// when the other side has read the end of the sequence. Uses <see cref="AsObserver{T}"/> with its default capacity.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="source">
    /// The items. It is subscribed once, on the thread pool (so a synchronous source does not block the caller), and it is
    /// stopped and its subscription disposed when writing ends: on completion, cancellation or a failed peer, a
    /// synchronous source (<c>Observable.Range</c>, <c>Repeat</c>, <c>Generate</c>, <c>ToObservable</c> on their default
    /// scheduler), even an endless one, stops as promptly as an asynchronous one. Only a source that loops without a
    /// scheduler and ignores disposal (a hand-written <c>Observable.Create</c> loop) keeps running; the task ends on
    /// time anyway.
    /// </param>
    /// <param name="stream">The stream; it is disposed when writing ends.</param>
    /// <param name="codec">Encodes the items straight into shared memory.</param>
    /// <param name="cancellationToken">Stops writing: the other side gets <c>OnError</c>, the task is cancelled.</param>
    /// <returns>
    /// A task that completes after the other side read the completion; faults with the source's exception (which was
    /// also sent), or with a <see cref="ShmipcException"/> when the session failed or the other side unsubscribed or
    /// closed the stream first.
    /// </returns>
    public static Task WriteTo<T>(this IObservable<T> source, ShmipcStream stream, IShmipcCodec<T> codec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(codec);
        return Linq.WriteTo<T>.RunAsync(source, stream, codec, DefaultCapacity, cancellationToken);
    }
}
