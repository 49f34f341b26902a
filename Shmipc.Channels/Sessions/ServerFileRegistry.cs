using System.Globalization;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The client files (file mode) that live server sessions of this process map, by device and inode. It refuses a file
/// that another session already uses, so a client cannot take over another client's session by announcing its paths,
/// and it counts the sessions that share one buffer file so the last of them unlinks it, as shmipc-go's server does.
/// </summary>
/// <remarks>
/// A queue belongs to exactly one session. A buffer region is shared by the sessions of one client process (shmipc-go's
/// SessionManager opens several sessions over one region), so a buffer already in use is accepted again only from the
/// same process id. Over TCP there is no process id: TCP clients may share buffers among themselves, never one mapped
/// for a Unix-socket client.
/// </remarks>
// Design: s_lock guards s_files. Claims are taken during a handshake (after the file is open, before it is used) and
// released when the session (queue) or its last lease (buffer) is gone, after the file was unlinked, so a file is never
// claimed twice at once and never unlinked while another live session of this process still maps it. The unlink itself
// checks the inode (SharedRegion.TryUnlink), so a different file created under the same name later is left alone.
internal static class ServerFileRegistry
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<SharedFileIdentity, Entry> s_files = [];

    /// <summary>Claims <paramref name="file"/> for one session, or throws <see cref="ShmipcErrorCode.PeerNotAuthorized"/>.</summary>
    /// <param name="file">The opened file.</param>
    /// <param name="isQueue">A queue file (one session only) or a buffer file (shared by one client process).</param>
    /// <param name="processId">The client's process id, null over TCP.</param>
    /// <param name="path">The announced path, for the message.</param>
    public static void Claim(SharedFileIdentity file, bool isQueue, int? processId, string path)
    {
        lock (s_lock)
        {
            if (!s_files.TryGetValue(file, out var entry))
            {
                s_files[file] = new Entry(isQueue, processId);
                return;
            }

            if (isQueue || entry.IsQueue || entry.ProcessId != processId)
            {
                var role = entry.IsQueue ? "queue" : "buffer region";
                throw new ShmipcException(
                    ShmipcErrorCode.PeerNotAuthorized,
                    string.Create(CultureInfo.InvariantCulture, $"Refusing to map '{path}': a live session of this server already uses that file as its {role}{(entry.ProcessId is { } pid ? $" (client pid {pid})" : "")}; a client may only announce files it created for this session."));
            }

            entry.Count++;
        }
    }

    /// <summary>A session that claimed <paramref name="file"/> let it go; true if it was the last one.</summary>
    public static bool Release(SharedFileIdentity file)
    {
        lock (s_lock)
        {
            if (!s_files.TryGetValue(file, out var entry))
            {
                return true;
            }

            if (--entry.Count > 0)
            {
                return false;
            }

            s_files.Remove(file);
            return true;
        }
    }

    private sealed class Entry(bool isQueue, int? processId)
    {
        public bool IsQueue { get; } = isQueue;

        public int? ProcessId { get; } = processId;

        public int Count { get; set; } = 1;
    }
}
