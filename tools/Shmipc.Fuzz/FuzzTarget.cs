using SharpFuzz;

namespace Shmipc.Fuzz;

/// <summary>One fuzz target: its command-line name, the code it runs on an input, and where its seed inputs are.</summary>
/// <param name="Name">The first command-line argument that selects it.</param>
/// <param name="Description">One line for the usage text.</param>
/// <param name="Run">Runs the code under test on one input; throws only for a finding.</param>
/// <param name="SeedFolders">Folders under <c>tests/vectors</c> whose non-empty <c>.bin</c> files seed the corpus.</param>
public sealed record FuzzTarget(string Name, string Description, ReadOnlySpanAction Run, IReadOnlyList<string> SeedFolders)
{
    /// <summary>
    /// Runs the target and reports how it ended: null when the input was accepted or rejected with a
    /// <see cref="Shmipc.Channels.ShmipcException"/> (the targets catch those), otherwise the exception that escaped.
    /// </summary>
    /// <param name="input">The input.</param>
    public Exception? Check(ReadOnlySpan<byte> input)
    {
        try
        {
            Run(input);
            return null;
        }
#pragma warning disable CA1031 // Replay reports every escaping exception as a finding instead of stopping at the first.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return e;
        }
    }
}
