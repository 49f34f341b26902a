using Shmipc.Channels;
using Shmipc.Reactive.Internal;
using Shmipc.Reactive.Linq;

namespace Shmipc.Reactive;

/// <summary>
/// Rx over Shmipc.Channels: sessions, streams and messages as <see cref="IObservable{T}"/>, and observables written to
/// a stream with back-pressure. This class only checks arguments and hands over to one operator each.
/// </summary>
/// <example>
/// Process A writes typed items; process B composes a pipeline and writes the results back on a second stream. The
/// streams are named, so B tells them apart whatever order they arrive in:
/// <code>
/// // A (client): "orders" carries orders out, "totals" brings totals back.
/// var orders = session.OpenStream("orders");
/// var totals = session.OpenStream("totals");
/// var lastTotal = totals.Observe(ShmipcCodecs.Json(AppJson.Default.Total)).LastAsync().ToTask(ct);
/// await source.WriteTo(orders, ShmipcCodecs.Json(AppJson.Default.Order), ct);
/// Console.WriteLine(await lastTotal);
///
/// // B (server): observe "orders", write to "totals".
/// var input = await session.AcceptStreamAsync("orders", ct);
/// var output = await session.AcceptStreamAsync("totals", ct);
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
/// Streams arrive at the server in the order their first messages do, which is not the order the client opened them
/// in (an observer speaks first on its stream, a writer on its own): name them with <see cref="OpenStream"/> and take
/// them with <see cref="AcceptStreamAsync"/>.
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
    /// Opens a stream that carries <paramref name="name"/> to the other side, which takes it with
    /// <see cref="AcceptStreamAsync"/> by that name, whatever order streams arrive in.
    /// </summary>
    /// <param name="session">The (client) session; shmipc streams are opened by the client.</param>
    /// <param name="name">A non-empty name of at most 1024 UTF-8 bytes; names need not be unique (equal names are
    /// accepted in the order they arrive).</param>
    /// <returns>The stream, ready for <see cref="Observe{T}"/>, <see cref="WriteTo{T}"/> or <see cref="AsObserver{T}"/>.</returns>
    /// <remarks>
    /// The name travels as the stream's first message (a Shmipc.Reactive envelope message, Name), so the stream
    /// becomes visible to the server at once. It is a convention of Shmipc.Reactive on top of shmipc's messages: no
    /// shmipc frame changes, and a peer without Shmipc.Reactive (shmipc-go) reads it as an ordinary first message.
    /// Writing the message waits for room in the IO queue only if the queue is full (at most the write timeout).
    /// </remarks>
    /// <exception cref="ShmipcException">The session is closed, or the name could not be sent.</exception>
    public static ShmipcStream OpenStream(this ShmipcSession session, string name)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Envelope.NameByteCount(name) > Envelope.MaxNameBytes)
        {
            throw new ArgumentException($"A stream name is at most {Envelope.MaxNameBytes} UTF-8 bytes.", nameof(name));
        }

        var stream = session.OpenStream();
        try
        {
            var lease = Envelope.CreateName(stream, name);
            try
            {
                if (!stream.Output.TryWrite(lease))
                {
                    stream.Output.WriteAsync(lease).AsTask().GetAwaiter().GetResult();
                }
            }
            finally
            {
                lease.Dispose();
            }
        }
        catch (Exception e)
        {
            stream.Dispose();
            throw e is System.Threading.Channels.ChannelClosedException { InnerException: ShmipcException inner } ? inner : e;
        }

        return stream;
    }

    /// <summary>
    /// The next incoming stream the peer opened with <see cref="OpenStream"/> and <paramref name="name"/>, whatever
    /// order the streams arrive in. Streams with other names wait for their own call; a stream opened without a name
    /// (<see cref="ShmipcSession.OpenStream"/>, or by a peer without Shmipc.Reactive) is accepted with the empty name.
    /// </summary>
    /// <param name="session">The (server) session.</param>
    /// <param name="name">The name the peer gave the stream; empty for streams opened without one.</param>
    /// <param name="cancellationToken">Stops waiting; a stream that arrives later waits for the next call.</param>
    /// <returns>The stream, its name message already taken off.</returns>
    /// <remarks>The first call makes this the only reader of <see cref="ShmipcSession.IncomingStreams"/>: from then on,
    /// accept every stream of the session here (by name, or with the empty name), not with
    /// <see cref="ShmipcSession.AcceptStreamAsync"/>.</remarks>
    /// <exception cref="ShmipcException">The session closed or failed (the reason) before such a stream arrived.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    public static ValueTask<ShmipcStream> AcceptStreamAsync(this ShmipcSession session, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(name);
        return NamedStreamRouter.For(session).AcceptAsync(name, cancellationToken);
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
