namespace Shmipc.Channels.Sessions;

/// <summary>
/// Deletes a file-mode client's buffer file when the last server session that mapped it ends, as shmipc-go's server
/// does (PROTOCOL.md §4.2), so a client that died (SIGKILL) leaves nothing in <c>/dev/shm</c>.
/// </summary>
// Design: s_lock guards s_counts (path → live server sessions that announced it). A client of this library that
// still holds the region notices the deleted file and announces a new one (ClientBufferRegistry).
internal static class ServerFileCleanup
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, int> s_counts = new(StringComparer.Ordinal);

    public static void Acquire(string path)
    {
        lock (s_lock)
        {
            s_counts[path] = s_counts.GetValueOrDefault(path) + 1;
        }
    }

    public static void Release(string path)
    {
        lock (s_lock)
        {
            var n = s_counts.GetValueOrDefault(path) - 1;
            if (n > 0)
            {
                s_counts[path] = n;
                return;
            }

            s_counts.Remove(path);
        }

        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Already gone: the client deletes it too.
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to delete.
        }
    }
}
