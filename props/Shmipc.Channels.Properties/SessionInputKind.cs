namespace Shmipc.Channels.Properties;

/// <summary>What a hostile server end sends a real client session (<see cref="SessionInputProperties"/>).</summary>
public enum SessionInputKind
{
    /// <summary>Frame-shaped or random bytes on the socket, then the server end closes.</summary>
    FrameBytes,

    /// <summary>A well-formed message (a slice chain in the client's region) on the stream the client opened.</summary>
    ValidElement,

    /// <summary>A queue element whose offset is any 32-bit value.</summary>
    OutOfRangeElement,

    /// <summary>A well-formed chain with one slice-header field overwritten (size, start, next or flags).</summary>
    MutatedChain,

    /// <summary>A chain whose last slice points back at its first.</summary>
    LoopingChain,

    /// <summary>A well-formed message on a stream id the client never opened.</summary>
    UnknownStream,
}
