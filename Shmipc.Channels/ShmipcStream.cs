using System.Threading.Channels;
using Shmipc.Channels.Channels;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels;

/// <summary>
/// One logical stream of a session: messages from the peer arrive on <see cref="Input"/> as leases over shared memory;
/// messages to the peer are written in place into leases from <see cref="Rent"/> and published on <see cref="Output"/>.
/// </summary>
/// <example>
/// <code>
/// await foreach (var msg in stream.Input.ReadAllAsync(ct))
/// {
///     using (msg) { Handle(msg.Data); }            // zero copy; Dispose returns the slices
/// }
///
/// var lease = stream.Rent();
/// Encoding.UTF8.GetBytes("hello", lease.Writer);   // written straight into shared memory
/// await stream.Output.WriteAsync(lease, ct);
/// </code>
/// </example>
/// <remarks>
/// shmipc closes streams as a whole: after the peer's close, <see cref="Output"/> refuses writes
/// (<see cref="ShmipcErrorCode.StreamClosed"/>), so a peer cannot answer after it saw your close. After
/// <see cref="CloseOutput"/>, messages the peer already sent are still delivered, and <see cref="Input"/> completes
/// when the peer closes or disposes its side (a Shmipc.NET peer always notifies; a shmipc-go peer does not notify
/// for a stream you closed first, so read the replies you expect before closing). When the session fails, <see cref="Input"/> completes with a <see cref="ShmipcException"/> that
/// says why: <c>Input.ReadAsync</c> throws a <see cref="ChannelClosedException"/> carrying it, while
/// <c>Input.WaitToReadAsync</c> (and so <c>await foreach</c> over <c>Input.ReadAllAsync</c>) and
/// <c>Input.Completion</c> throw the <see cref="ShmipcException"/> itself.
/// <para>A stream is released once both sides are done with it: by <see cref="Dispose"/>, or when the peer closed it
/// and <see cref="Input"/> was read to the end (then this side's close notice is sent for you). Dispose anyway: it
/// also recycles messages left unread.</para>
/// <para>Writes: a closed stream or session fails with <see cref="ChannelClosedException"/> carrying the
/// <see cref="ShmipcException"/> (TryWrite returns false). When the write timeout passes (the peer's IO queue stayed
/// full, or its socket took nothing), the write fails with <see cref="ShmipcException"/>
/// (<see cref="ShmipcErrorCode.Timeout"/>): the message was not sent, the lease is still yours and the stream stays
/// usable. Only if the socket stalled in the middle of a frame is the session closed as well (the exception says so).</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "A shmipc stream is the protocol's name for a logical connection; it is not a System.IO.Stream.")]
public sealed class ShmipcStream : IAsyncDisposable, IDisposable
{
    private readonly SessionStream _stream;
    private readonly StreamChannelWriter _output;
    private readonly StreamChannelReader _input;

    private ShmipcStream(SessionStream stream)
    {
        _stream = stream;
        _output = new StreamChannelWriter(stream);

        // With inline continuations the reactor already resumes a waiting reader without a hop: no need to spin.
        var session = stream.Session;
        _input = new StreamChannelReader(stream, session.Options.RunContinuationsOnReactor ? 0 : session.SpinTicks, session.Options.TrackLeaseOrigins);
    }

    /// <summary>The stream id (client ids are 2, 3, 4, … as in shmipc-go).</summary>
    public uint Id => _stream.Id;

    /// <summary>The session the stream belongs to.</summary>
    public ShmipcSession Session => ShmipcSession.Of(_stream.Session);

    /// <summary>Messages from the peer, in order. Completes when the peer closes the stream; fails when the session fails.</summary>
    public ChannelReader<ShmLease> Input => _input;

    /// <summary>Publishes leases from <see cref="Rent"/> to the peer. Completing it closes the stream.</summary>
    /// <remarks>
    /// A lease written successfully belongs to the stream. A write that fails, is cancelled or is refused leaves the
    /// lease with the caller, who disposes it. An empty lease is refused with an <see cref="ArgumentException"/>:
    /// shmipc has no empty message. Other errors are described in the remarks of <see cref="ShmipcStream"/>: closed is
    /// <see cref="ChannelClosedException"/>, a write timeout is <see cref="ShmipcException"/> with
    /// <see cref="ShmipcErrorCode.Timeout"/>.
    /// </remarks>
    public ChannelWriter<ShmLease> Output => _output;

    /// <summary>Whether the peer closed the stream.</summary>
    public bool IsClosedByPeer => _stream.IsRemoteClosed;

    /// <summary>
    /// Whether the stream's messages currently go over the socket instead of shared memory: true from the moment a
    /// message found shared memory exhausted (<see cref="ExhaustionPolicy.Fallback"/>) or the peer's messages arrived
    /// over the socket. Towards a Shmipc.NET peer it turns false again with the next message that finds free slices
    /// (order is kept across both paths); towards shmipc-go or shmipc-rs it stays true for the life of the stream, as
    /// shmipc requires. Entries are counted by the <c>shmipc.fallback_entries</c> counter.
    /// </summary>
    public bool IsInFallback => _stream.InFallback;

    /// <summary>
    /// Rents a lease to write one message into shared memory. Write through <see cref="ShmLease.Writer"/> (or
    /// <see cref="ShmLease.GetSpan"/> / <see cref="ShmLease.Advance"/>), then pass it to <see cref="Output"/>.
    /// </summary>
    /// <exception cref="ShmipcException">The session is closed.</exception>
    public ShmLease Rent()
    {
        var session = _stream.Session;
        session.ThrowIfClosed();
        var core = LeaseCore.Rent();
        if (!core.TryBeginWrite(session, session.Buffer, _stream.Id))
        {
            throw session.CreateClosedException();
        }

        if (session.Options.TrackLeaseOrigins)
        {
            core.SetOrigin(new System.Diagnostics.StackTrace(1, true));
        }

        return new ShmLease(core);
    }

    /// <summary>Copies <paramref name="message"/> into shared memory and publishes it (a convenience over <see cref="Rent"/>).</summary>
    /// <param name="message">The bytes; may be larger than one slice (it becomes a chain of slices).</param>
    /// <param name="cancellationToken">Cancels a wait for room in the IO queue.</param>
    /// <exception cref="ArgumentException"><paramref name="message"/> is empty (shmipc has no empty message).</exception>
    /// <exception cref="ChannelClosedException">The stream or the session is closed; the inner <see cref="ShmipcException"/> says why.</exception>
    /// <exception cref="ShmipcException">
    /// <see cref="ShmipcErrorCode.Timeout"/>: nothing was sent within the write timeout; the stream stays usable.
    /// <see cref="ShmipcErrorCode.SessionClosed"/>: the session was closed before the message was started.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (message.IsEmpty)
        {
            throw new ArgumentException("The message is empty: shmipc cannot carry an empty message.", nameof(message));
        }

        var lease = Rent();
        try
        {
            var rest = message.Span;
            while (!rest.IsEmpty)
            {
                var span = lease.GetSpan();
                var n = Math.Min(span.Length, rest.Length);
                rest[..n].CopyTo(span);
                lease.Advance(n);
                rest = rest[n..];
            }

            await _output.WriteAsync(lease, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lease.Dispose();
        }
    }

    /// <summary>The engine's stream (the pool keeps and reuses it).</summary>
    internal SessionStream Engine => _stream;

    /// <summary>The one facade of <paramref name="stream"/>.</summary>
    internal static ShmipcStream Of(SessionStream stream) => stream.GetFacade(static s => new ShmipcStream(s));

    /// <summary>Closes the stream towards the peer (a close element, or a StreamClose frame when the queue is full).</summary>
    /// <remarks>Never throws: if the notice cannot be written, the session closes (see <see cref="ShmipcSession.Completion"/>).</remarks>
    public void CloseOutput() => _stream.CloseOutput();

    /// <summary>Closes the stream and recycles every message not yet read.</summary>
    public void Dispose() => _stream.Close();

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    /// <inheritdoc />
    public override string ToString() => $"shmipc stream {Id} of {_stream.Session.Name}";
}
