namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>One row of the table before it is measured: kind, payload size and stream count.</summary>
internal readonly record struct CellSpec(CellKind Kind, int Size, int Streams)
{
    /// <summary>The row label printed in the table and the CSV.</summary>
    public string Label => Kind switch
    {
        CellKind.PingPong => "pingpong",
        CellKind.Rate => "rate",
        _ => "oneway",
    };
}
