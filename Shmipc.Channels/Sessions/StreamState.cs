namespace Shmipc.Channels.Sessions;

/// <summary>The close state of a <see cref="SessionStream"/>: flag bits, each set once and never cleared.</summary>
[Flags]
internal enum StreamState
{
    /// <summary>Open both ways.</summary>
    Open = 0,

    /// <summary>The local user completed the output (CloseOutput, Dispose, Output.TryComplete): writes report the completion, not an error.</summary>
    OutputCompleted = 1,

    /// <summary>This side closed the stream: its close notice went out, or the session is going away.</summary>
    LocalClosed = 2,

    /// <summary>The peer closed the stream (or the session failed): Input completed; writes fail.</summary>
    RemoteClosed = 4,

    /// <summary>The local user disposed the stream: Input completed locally; later deliveries are dropped.</summary>
    InputDone = 8,

    /// <summary>Released: out of the session's stream table (or never in it), held messages recycled.</summary>
    Removed = 16,
}
