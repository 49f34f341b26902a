namespace Shmipc.Fuzz;

/// <summary>What <see cref="SmokeRun.Run"/> did: how many inputs ran and which ones failed, with what.</summary>
/// <param name="Runs">Inputs run (seeds and mutations).</param>
/// <param name="Seeds">How many of them were seed files.</param>
/// <param name="Elapsed">Wall-clock time of the run.</param>
/// <param name="Findings">Each failing input with the exception that escaped.</param>
public sealed record SmokeResult(int Runs, int Seeds, TimeSpan Elapsed, IReadOnlyList<(byte[] Input, Exception Finding)> Findings);
