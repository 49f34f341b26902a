namespace Shmipc.Channels;

/// <summary>Settings of a listener and the server sessions it accepts.</summary>
public sealed class ShmipcServerOptions : ShmipcOptions
{
    /// <summary>Length of the kernel's accept backlog. Default 128.</summary>
    public int Backlog { get; set; } = 128;

    /// <summary>
    /// Whether a client may name files outside <c>/dev/shm</c> in file mode. Default false: shmipc-go maps and later
    /// deletes any path a client names (docs/PROTOCOL.md §4.2), which lets a client delete the server's files.
    /// </summary>
    public bool AllowFilesOutsideDevShm { get; set; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(Backlog > 0, $"{nameof(Backlog)} must be positive, not {Backlog}.");
    }
}
