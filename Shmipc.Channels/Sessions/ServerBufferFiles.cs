namespace Shmipc.Channels.Sessions;

/// <summary>
/// Counts the server sessions that map each client buffer file, so that the file is unlinked when the last of them
/// ends, as shmipc-go's server does (docs/PROTOCOL.md §4.2, §5 "Session close", §14.18). Without it a client that dies
/// (SIGKILL) leaves its buffer file in /dev/shm for good: only the queue file is removed per session.
/// </summary>
// Design: s_lock guards s_counts. A session's SharedBuffer calls Release from its last release (every lease gone), so a
// file is never unlinked while another live session of this process still maps it; the unlink itself checks the inode
// (SharedRegion.TryUnlink), so a different file created under the same name later is left alone.
internal static class ServerBufferFiles
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, int> s_counts = new(StringComparer.Ordinal);

    /// <summary>One more server session maps <paramref name="path"/>.</summary>
    public static void Acquire(string path)
    {
        lock (s_lock)
        {
            s_counts[path] = s_counts.GetValueOrDefault(path) + 1;
        }
    }

    /// <summary>A server session that mapped <paramref name="path"/> released it; true if it was the last one.</summary>
    public static bool Release(string path)
    {
        lock (s_lock)
        {
            var left = s_counts.GetValueOrDefault(path) - 1;
            if (left > 0)
            {
                s_counts[path] = left;
                return false;
            }

            s_counts.Remove(path);
            return true;
        }
    }
}
