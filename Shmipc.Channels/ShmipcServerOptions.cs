namespace Shmipc.Channels;

/// <summary>Settings of a listener and the server sessions it accepts.</summary>
public sealed class ShmipcServerOptions : ShmipcOptions
{
    /// <summary>Length of the kernel's accept backlog. Default 128.</summary>
    public int Backlog { get; set; } = 128;

    /// <summary>
    /// Whether a client may name files outside <c>/dev/shm</c> in file mode. Default false: shmipc-go maps and later
    /// deletes any path a client names (PROTOCOL.md §4.2), which lets a client delete the server's files.
    /// </summary>
    public bool AllowFilesOutsideDevShm { get; set; }

    /// <summary>
    /// Whether to accept only clients whose shared memory cannot shrink: memfds sealed with F_SEAL_SHRINK, as
    /// Shmipc.NET clients create them. Clients in file mode and shmipc-go clients (unsealed memfds) then fail the
    /// handshake. Default false, so Go clients work; unsealed memory is then guarded against truncation on Linux x64
    /// (a truncating client only loses its own session) and exposed on arm64 (see the README's security model).
    /// </summary>
    public bool RequireSealedMemory { get; set; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(Backlog > 0, $"{nameof(Backlog)} must be positive, not {Backlog}.");
    }
}
