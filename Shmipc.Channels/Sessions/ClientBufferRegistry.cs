using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// The client's buffer regions, one per configuration, shared by all client sessions of the process
/// (shmipc-go keeps a global path → region map with reference counts, PROTOCOL.md §4.1).
/// </summary>
// Design: _lock guards _buffers. A SharedBuffer leaves the map in its last Release (onLastRelease, under _lock) and
// only if the map still points at that instance; a lookup that loses the race (TryAddRef fails) creates a new one.
internal static unsafe class ClientBufferRegistry
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, SharedBuffer> s_buffers = [];
    private static readonly Dictionary<string, int> s_generations = [];

    /// <summary>Gets (with a reference the caller owns) or creates the buffer region for <paramref name="options"/>.</summary>
    /// <param name="options">Validated client options.</param>
    /// <param name="name">The region's logical name: the path in file mode, the announced name in memfd mode.</param>
    public static SharedBuffer Acquire(ShmipcClientOptions options, out string name)
    {
        var key = KeyOf(options);
        lock (s_lock)
        {
            if (s_buffers.TryGetValue(key, out var existing) && existing.TryAddRef())
            {
                // In file mode a server deletes the buffer file when its last session for it ends (PROTOCOL.md §14.18);
                // a deleted file cannot be announced again, so start a new region then.
                // A region the server truncated (file mode) is unusable too: its pages read as zeros.
                if (!existing.Region.WasTruncated && (options.MemoryMapType == MemoryMapType.MemFd || File.Exists(existing.Region.Path)))
                {
                    name = existing.Region.Name;
                    return existing;
                }

                existing.Release();
                s_buffers.Remove(key);
            }

            // The first region of a configuration gets shmipc-go's name; a replacement gets a generation suffix.
            var generation = s_generations.GetValueOrDefault(key) + 1;
            s_generations[key] = generation;
            var prefix = $"{options.PathPrefix}_{Environment.ProcessId}";
            name = generation == 1 ? $"{prefix}_buffer" : $"{prefix}_{generation}_buffer";
            var buffer = Create(options, name, key);
            s_buffers[key] = buffer;
            return buffer;
        }
    }

    private static SharedBuffer Create(ShmipcClientOptions options, string name, string key)
    {
        var region = options.MemoryMapType == MemoryMapType.MemFd
            ? SharedRegion.CreateMemFd("shmipc" + name, options.BufferCapacity)
            : SharedRegion.CreateFile(name, options.BufferCapacity, options.FileMode);
        try
        {
            if (options.MemoryMapType == MemoryMapType.DevShmFile)
            {
                region.DeleteOnDispose = true;
            }

            Span<(uint, uint)> classes = stackalloc (uint, uint)[options.SizeClasses.Count];
            for (var i = 0; i < classes.Length; i++)
            {
                classes[i] = ((uint)options.SizeClasses[i].SliceSize, (uint)options.SizeClasses[i].Percent);
            }

            var manager = BufferManager.Create(region.Base, region.Length, classes);
            return new SharedBuffer(region, manager, key, OnLastRelease);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    private static void OnLastRelease(SharedBuffer buffer)
    {
        lock (s_lock)
        {
            if (s_buffers.TryGetValue((string)buffer.Key, out var current) && ReferenceEquals(current, buffer))
            {
                s_buffers.Remove((string)buffer.Key);
            }
        }
    }

    private static string KeyOf(ShmipcClientOptions o)
    {
        var classes = string.Join(",", o.SizeClasses.Select(c => $"{c.SliceSize}:{c.Percent}"));
        return $"{o.MemoryMapType}|{o.PathPrefix}|{o.BufferCapacity}|{classes}";
    }
}
