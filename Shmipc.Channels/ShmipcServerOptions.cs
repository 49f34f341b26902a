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

    /// <summary>
    /// Users (uids) that may connect besides the server's own user and root, which always may. Default empty. Checked
    /// with the kernel's record of the client (SO_PEERCRED); over TCP, where there is none, the owner of the client's
    /// shared-memory files is checked against the same users instead.
    /// </summary>
    public IReadOnlyCollection<uint> AllowedClientUserIds { get; set; } = [];

    /// <summary>Whether clients of every user may connect (no uid check). Default false.</summary>
    public bool AllowAnyClientUser { get; set; }

    /// <summary>
    /// Permissions of the socket file that <see cref="ShmipcListener.Bind"/> creates. Default owner read/write (0600);
    /// <c>UserRead | UserWrite | GroupRead | GroupWrite</c> (0660) lets the group connect. Other users also need the
    /// uid to be allowed (<see cref="AllowedClientUserIds"/>).
    /// </summary>
    public UnixFileMode SocketFileMode { get; set; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Whether to accept only clients whose shared memory cannot shrink: memfds sealed with F_SEAL_SHRINK, as
    /// Shmipc.NET clients create them. Clients in file mode and shmipc-go clients (unsealed memfds) then fail the
    /// handshake. Default false, so Go clients work; unsealed memory is then guarded against truncation on Linux x64
    /// (a truncating client only loses its own session) and exposed on arm64 (see the README's security model).
    /// </summary>
    public bool RequireSealedMemory { get; set; }

    /// <summary>
    /// Whether <see cref="ShmipcListener.Bind"/> takes the socket path over from a server that still listens on it, as
    /// the new server of a hot restart does. Default false: a path another process listens on is refused (EADDRINUSE).
    /// With true the listener binds a temporary name in the same directory and renames it over the path, so clients
    /// connecting meanwhile reach the old server or the new one, never nothing; the old server keeps serving the
    /// sessions it has and no longer removes the path when disposed (it is no longer its socket file).
    /// </summary>
    public bool TakeOverSocketPath { get; set; }

    /// <summary>
    /// How long <see cref="ShmipcListener.HotRestartAsync"/> waits for every session's acknowledgement before it gives
    /// up and restores the normal state. Default 2 s, shmipc-go's hotRestartCheckTimeout.
    /// </summary>
    public TimeSpan HotRestartTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(Backlog > 0, $"{nameof(Backlog)} must be positive, not {Backlog}.");
        Require(HotRestartTimeout > TimeSpan.Zero, $"{nameof(HotRestartTimeout)} must be positive, not {HotRestartTimeout}.");
        Require(AllowedClientUserIds is not null, $"{nameof(AllowedClientUserIds)} must not be null (use an empty collection).");
        Require(
            ((int)SocketFileMode & ~0x1FF) == 0 && SocketFileMode.HasFlag(UnixFileMode.UserRead | UnixFileMode.UserWrite),
            $"{nameof(SocketFileMode)} must hold only read/write/execute bits and include UserRead | UserWrite, not {SocketFileMode}.");
    }
}
