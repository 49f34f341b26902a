namespace Shmipc.Fuzz;

/// <summary>
/// A fuzz target found a broken invariant that is not an exception of the code under test (for example a parser
/// that returned a frame longer than its input, or an fd the handshake neither returned nor closed).
/// </summary>
/// <remarks>
/// It deliberately does not derive from <see cref="Shmipc.Channels.ShmipcException"/>: the targets let it escape,
/// so the fuzzer reports the input as a crash and the replay mode counts it as a failure.
/// </remarks>
public sealed class FuzzContractException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public FuzzContractException()
        : base("A fuzz target invariant was broken.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>, which says which invariant was broken.</summary>
    /// <param name="message">What was broken.</param>
    public FuzzContractException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the exception that revealed it.</summary>
    /// <param name="message">What was broken.</param>
    /// <param name="innerException">The cause.</param>
    public FuzzContractException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
