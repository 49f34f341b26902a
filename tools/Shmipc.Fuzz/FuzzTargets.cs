namespace Shmipc.Fuzz;

/// <summary>The targets this tool knows, by name.</summary>
public static class FuzzTargets
{
    /// <summary>The data-phase frame parser and decoders (<see cref="FrameTarget"/>).</summary>
    public static FuzzTarget Frame { get; } = new(
        "frame",
        "data-phase frames: FrameParser (at once and in chunks) and the frame decoders",
        FrameTarget.Run,
        ["frames", "streams"]);

    /// <summary>The v2/v3 handshake, server and client roles (<see cref="HandshakeTarget"/>).</summary>
    public static FuzzTarget Handshake { get; } = new(
        "handshake",
        "v2/v3 handshake: the server reading a client's bytes, v3 clients reading a server's replies",
        HandshakeTarget.Run,
        ["handshake", "streams"]);

    /// <summary>Every target.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } = [Frame, Handshake];

    /// <summary>The target called <paramref name="name"/>, or null.</summary>
    /// <param name="name">A target name as given on the command line.</param>
    public static FuzzTarget? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}
