namespace Shmipc.Reactive.Internal;

/// <summary>The first byte of every message Shmipc.Reactive writes on a stream (see <see cref="Envelope"/>).</summary>
internal enum EnvelopeTag : byte
{
    /// <summary>Writer → observer: one item; the rest of the message is the codec's bytes.</summary>
    Item = 0,

    /// <summary>Writer → observer: the sequence failed; the rest is the reason in UTF-8. Nothing follows.</summary>
    Error = 1,

    /// <summary>Writer → observer: the sequence completed. Nothing follows.</summary>
    Completed = 2,

    /// <summary>Writer → observer: first message of a writer; one byte of envelope version follows.</summary>
    Open = 3,

    /// <summary>Observer → writer: the observer can take this many more items (uint32, little-endian).</summary>
    Credit = 4,

    /// <summary>Observer → writer: the observer unsubscribed; the writer stops and answers with Completed.</summary>
    Cancel = 5,

    /// <summary>
    /// Opener → acceptor: the stream's name in UTF-8, the first message of a stream opened with
    /// <see cref="ShmipcObservable.OpenStream"/>; taken off the stream by <see cref="ShmipcObservable.AcceptStreamAsync"/>
    /// (and ignored by both loops if it was not).
    /// </summary>
    Name = 6,
}
