namespace Shmipc.Channels;

/// <summary>System.IO.Pipelines over a <see cref="ShmipcStream"/>.</summary>
public static class ShmipcPipeExtensions
{
    /// <summary>
    /// Wraps <paramref name="stream"/> in an <see cref="System.IO.Pipelines.IDuplexPipe"/>: a byte stream whose
    /// writer hands out shared memory and whose reader delivers the peer's messages as one continuous sequence.
    /// </summary>
    /// <param name="stream">The stream; the pipe owns it from now on (it is disposed when both sides of the pipe are completed).</param>
    /// <returns>The pipe. Complete both <see cref="ShmipcDuplexPipe.Input"/> and <see cref="ShmipcDuplexPipe.Output"/>, or dispose it.</returns>
    /// <example>
    /// <code>
    /// await using var pipe = session.OpenStream().AsDuplexPipe();
    /// var memory = pipe.Output.GetMemory();              // shared memory: written in place, no copy
    /// var n = Encoding.UTF8.GetBytes("hello", memory.Span);
    /// pipe.Output.Advance(n);
    /// await pipe.Output.FlushAsync(ct);                  // one shmipc message to the peer
    /// var result = await pipe.Input.ReadAsync(ct);
    /// </code>
    /// </example>
    public static ShmipcDuplexPipe AsDuplexPipe(this ShmipcStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new ShmipcDuplexPipe(stream);
    }
}
