namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// One column family of the table: something that can run a cell (the in-process floor, the spin floor, UDS, shmipc in
/// one configuration). The harness calls <see cref="BeginSizeAsync"/> once per payload size, then runs every cell of
/// that size, then <see cref="EndSizeAsync"/>, so a transport holds per-size resources (a shmipc session and its
/// region) only while its own cells run.
/// </summary>
internal abstract class TransportRunner
{
    /// <summary>The transport's name in the table, the CSV and the chart.</summary>
    public abstract string Name { get; }

    /// <summary>Whether this transport runs cells of this shape (the spin floor: one stream, round trips only).</summary>
    public virtual bool Supports(CellSpec cell) => true;

    public virtual Task BeginSizeAsync(int size) => Task.CompletedTask;

    public virtual Task EndSizeAsync() => Task.CompletedTask;

    /// <summary>The transport's child process, if any (its CPU time and context switches count with this process's).</summary>
    public abstract ServerProcess? Child { get; }

    /// <summary>Starts the meter of a cell's measured part (CPU and context switches of this process and the child).</summary>
    protected CellMeter StartMeter() => CellMeter.Start(Child);

    /// <summary>Warm-up (unmeasured), then the measured part between a <see cref="CellMeter"/>'s start and stop.</summary>
    public abstract Task<CellResult> RunAsync(CellSpec cell, MessageSet set, CellPlan warmup, CellPlan measure);
}
