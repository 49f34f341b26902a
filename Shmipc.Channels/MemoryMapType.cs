namespace Shmipc.Channels;

/// <summary>How a client shares its memory with the server.</summary>
public enum MemoryMapType
{
    /// <summary>
    /// Anonymous memory (<c>memfd_create</c>) passed to the server over the Unix socket (protocol v3). Nothing is left
    /// behind when a process dies. Needs a Unix domain socket. The default.
    /// </summary>
    MemFd = 0,

    /// <summary>
    /// Files under <c>/dev/shm</c> whose paths are sent to the server (protocol v2, the shmipc-go default). Works over TCP
    /// too; both sides delete the files when the session ends.
    /// </summary>
    DevShmFile = 1,
}
