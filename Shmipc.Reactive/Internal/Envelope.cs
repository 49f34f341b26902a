using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Shmipc.Channels;

namespace Shmipc.Reactive.Internal;

/// <summary>
/// The tiny protocol Shmipc.Reactive speaks on one stream, on top of shmipc's delimited messages. One stream carries one
/// sequence in one direction: a writer (<see cref="ShmipcStreamObserver{T}"/>) and an observer
/// (<see cref="ShmipcObservable.Observe{T}"/>).
/// </summary>
/// <remarks>
/// <code>
/// writer   → observer : Open(version) Item* (Completed | Error(reason))
/// observer → writer   : Credit(n)* Cancel?
/// </code>
/// <para>Credits are the back-pressure: the writer sends an item only against a credit, and the observer grants credits
/// as its observer returns from <c>OnNext</c> (Reactive Streams' <c>request(n)</c>, as RSocket carries it). shmipc
/// itself drains the IO queue eagerly into an unbounded per-stream queue, so without credits a slow observer would only
/// slow the writer once shared memory ran out — and then the messages would move to the socket, not stop.</para>
/// <para>Closing: shmipc closes a stream as a whole (after the peer's close, writes fail). So the side that speaks last
/// closes: the writer ends with Completed or Error and then only listens; the observer, having read that, closes the
/// stream; the writer sees the close and forgets the stream. A message can therefore never arrive for a stream its
/// receiver already removed (which a server would take for a new incoming stream). On Cancel the writer stops and
/// answers Completed, and the observer, which released every item arriving meanwhile, closes as above.</para>
/// <para>Named streams: a stream opened with <see cref="ShmipcObservable.OpenStream"/> carries a Name message first
/// (<c>Name(utf8)</c>), before either role's messages; the accepting side takes it off with
/// <see cref="ShmipcObservable.AcceptStreamAsync"/>, so neither loop normally sees it (both ignore one).</para>
/// <para>Both sides announce themselves in their first message (Open, or the initial Credit), so a stream a client
/// opens becomes visible to the server whichever role the client plays.</para>
/// </remarks>
internal static class Envelope
{
    /// <summary>The envelope version carried by Open.</summary>
    public const byte Version = 1;

    /// <summary>Longest error reason sent, in characters; a longer one is cut.</summary>
    public const int MaxReasonLength = 4096;

    private static readonly UTF8Encoding s_reasonEncoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Writes a control message: the tag, then an optional little-endian uint32 or version byte.</summary>
    public static async ValueTask WriteControlAsync(ShmipcStream stream, EnvelopeTag tag, uint argument, CancellationToken cancellationToken)
    {
        var lease = stream.Rent();
        try
        {
            var length = tag switch
            {
                EnvelopeTag.Credit => 5,
                EnvelopeTag.Open => 2,
                _ => 1,
            };
            var span = lease.GetSpan(length);
            span[0] = (byte)tag;
            if (tag == EnvelopeTag.Credit)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(span[1..], argument);
            }
            else if (tag == EnvelopeTag.Open)
            {
                span[1] = (byte)argument;
            }

            lease.Advance(length);
            await stream.Output.WriteAsync(lease, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lease.Dispose();
        }
    }

    /// <summary>Writes an Error message carrying <paramref name="reason"/>.</summary>
    public static async ValueTask WriteErrorAsync(ShmipcStream stream, string reason, CancellationToken cancellationToken)
    {
        if (reason.Length > MaxReasonLength)
        {
            reason = string.Concat(reason.AsSpan(0, MaxReasonLength), "…");
        }

        var lease = stream.Rent();
        try
        {
            lease.GetSpan(1)[0] = (byte)EnvelopeTag.Error;
            lease.Advance(1);
            s_reasonEncoding.GetBytes(reason, lease.Writer);
            await stream.Output.WriteAsync(lease, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lease.Dispose();
        }
    }

    /// <summary>Longest stream name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 1024;

    private static readonly UTF8Encoding s_nameEncoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The Name message for <paramref name="name"/>, written into a lease of <paramref name="stream"/>.</summary>
    public static ShmLease CreateName(ShmipcStream stream, string name)
    {
        var lease = stream.Rent();
        try
        {
            lease.GetSpan(1)[0] = (byte)EnvelopeTag.Name;
            lease.Advance(1);
            s_nameEncoding.GetBytes(name, lease.Writer);
            return lease;
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>The byte count of <paramref name="name"/> in UTF-8; throws for invalid UTF-16 (a lone surrogate).</summary>
    public static int NameByteCount(string name) => s_nameEncoding.GetByteCount(name);

    /// <summary>Reads a Name message; false when it is not one (or its name is not valid UTF-8).</summary>
    public static bool TryReadName(in ReadOnlySequence<byte> message, out string name)
    {
        name = string.Empty;
        if (!TryReadTag(message, out var tag) || tag != EnvelopeTag.Name || message.Length - 1 is 0 or > MaxNameBytes)
        {
            return false;
        }

        try
        {
            name = s_nameEncoding.GetString(message.Slice(1));
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Starts an Item message: writes the tag; the codec writes the rest.</summary>
    public static void BeginItem(ShmLease lease)
    {
        lease.GetSpan(1)[0] = (byte)EnvelopeTag.Item;
        lease.Advance(1);
    }

    /// <summary>Reads the tag of a message; false for an empty message.</summary>
    public static bool TryReadTag(in ReadOnlySequence<byte> message, out EnvelopeTag tag)
    {
        if (message.IsEmpty)
        {
            tag = default;
            return false;
        }

        tag = (EnvelopeTag)message.FirstSpan[0];
        return true;
    }

    /// <summary>Reads the argument of a Credit message; false when the message is not 5 bytes long.</summary>
    public static bool TryReadCredit(in ReadOnlySequence<byte> message, out uint credit)
    {
        credit = 0;
        if (message.Length != 5)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[4];
        message.Slice(1).CopyTo(bytes);
        credit = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        return true;
    }

    /// <summary>Reads the version of an Open message; -1 when malformed.</summary>
    public static int ReadVersion(in ReadOnlySequence<byte> message) =>
        message.Length == 2 ? message.Slice(1).FirstSpan[0] : -1;

    /// <summary>Reads the reason of an Error message (invalid UTF-8 is replaced, never fatal).</summary>
    public static string ReadReason(in ReadOnlySequence<byte> message)
    {
        var reason = message.Slice(1);
        if (reason.Length > MaxReasonLength * 4)
        {
            reason = reason.Slice(0, MaxReasonLength * 4);
        }

        return s_reasonEncoding.GetString(reason);
    }

    /// <summary>The reason sent for an exception: its type and message.</summary>
    public static string Describe(Exception error) => $"{error.GetType().FullName}: {error.Message}";
}
