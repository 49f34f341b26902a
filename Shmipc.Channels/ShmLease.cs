using System.Buffers;
using Shmipc.Channels.Sessions;

namespace Shmipc.Channels;

/// <summary>
/// A pooled lease on one message in shared memory. A received lease is a zero-copy view of the bytes the peer wrote
/// (<see cref="Data"/>); a lease from <see cref="ShmipcStream.Rent"/> is written in place through
/// <see cref="IBufferWriter{T}"/> and then handed to <see cref="ShmipcStream.Output"/>.
/// </summary>
/// <remarks>
/// <para>Dispose every lease you receive: that returns its slices to the shared free lists. Disposing twice, or after
/// the session closed, is harmless; using a disposed lease throws <see cref="ObjectDisposedException"/>.</para>
/// <para>A lease written to <see cref="ShmipcStream.Output"/> belongs to the stream from then on; disposing it
/// afterwards is a no-op. A lease is a small struct over a pooled object: copies refer to the same message.</para>
/// <para>Messages larger than one slice are written in pieces: <see cref="GetSpan"/> with no size hint returns the rest
/// of the current slice or a fresh slice, and the message becomes a chain of slices. A size hint larger than the
/// largest slice moves the message to the heap, and it travels over the socket (shmipc fallback). When shared memory
/// is exhausted, <see cref="ShmipcOptions.ExhaustionPolicy"/> decides: fall back to the socket, wait in
/// <see cref="ShmipcStream.Output"/> for free slices, or throw here.</para>
/// <para>A lease that is garbage-collected without being disposed is reported (log, <c>shmipc.leases_leaked</c>) and
/// its slices are returned; do not keep using a span of a lease you no longer reference.</para>
/// </remarks>
public readonly struct ShmLease : IDisposable, IBufferWriter<byte>, IEquatable<ShmLease>
{
    private readonly LeaseCore? _core;
    private readonly int _token;

    internal ShmLease(LeaseCore core)
    {
        _core = core;
        _token = core.Token;
    }

    /// <summary>Whether this lease is still valid: not default, not disposed, not handed to a stream.</summary>
    public bool IsValid => _core is not null && _core.Token == _token;

    /// <summary>Length of the message in bytes (received), or bytes written so far (being written).</summary>
    public int Length => Core.Length;

    /// <summary>The id of the stream the message belongs to.</summary>
    public uint StreamId => Core.StreamId;

    /// <summary>
    /// The bytes of the message, where they lie in shared memory (no copy). Valid until the lease is disposed.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The lease was disposed or handed to a stream.</exception>
    /// <exception cref="ShmipcException">The session closed (<see cref="ShmipcErrorCode.SessionClosed"/>).</exception>
    public ReadOnlySequence<byte> Data
    {
        get
        {
            var core = Core;
            if (core.Session is { IsClosed: true } && core.Kind == LeaseKind.Writing)
            {
                throw new ShmipcException(ShmipcErrorCode.SessionClosed, "the session of this lease is closed.");
            }

            return core.GetSequence();
        }
    }

    /// <summary>A writer into shared memory for APIs that take <see cref="IBufferWriter{T}"/>; valid until the lease is written or disposed.</summary>
    public IBufferWriter<byte> Writer => Core;

    internal LeaseCore? CoreOrNull => _core;

    internal int TokenValue => _token;

    private LeaseCore Core
    {
        get
        {
            var core = _core;
            if (core is null || core.Token != _token)
            {
                ThrowDisposed();
            }

            return core!;
        }
    }

    /// <summary>Compares two leases by identity.</summary>
    public static bool operator ==(ShmLease left, ShmLease right) => left.Equals(right);

    /// <summary>Compares two leases by identity.</summary>
    public static bool operator !=(ShmLease left, ShmLease right) => !left.Equals(right);

    /// <summary>Copies the message into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="Length"/> bytes.</param>
    public void CopyTo(Span<byte> destination) => Data.CopyTo(destination);

    /// <summary>Copies the message into a new array.</summary>
    public byte[] ToArray() => Data.ToArray();

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0) => Core.GetSpan(sizeHint);

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0) => Core.GetMemory(sizeHint);

    /// <inheritdoc />
    public void Advance(int count) => Core.Advance(count);

    /// <summary>Returns the slices to the shared free lists and the lease to its pool. Harmless when repeated.</summary>
    public void Dispose() => _core?.TryRelease(_token);

    /// <inheritdoc />
    public bool Equals(ShmLease other) => ReferenceEquals(_core, other._core) && _token == other._token;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ShmLease other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_core, _token);

    private static void ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(ShmLease), "This lease was disposed or handed to a stream.");
}
