using Shmipc.Channels.Memory;
using Native = Shmipc.Channels.Interop.Interop;

namespace Shmipc.Channels.Sessions;

/// <summary>
/// One client session's own shared memory: a buffer region and a queue pair, made together under one set of
/// unpredictable names (<see cref="ClientShmNames"/>). Nothing here is shared with another session.
/// </summary>
// Design: a region per session, never one region for the whole process (as shmipc-go does).
// - A server that dies (or merely stops) keeps whatever it held: slices it was reading, slices it was writing, elements
//   in a queue nobody will drain. With one process-wide region those slices were lost for good (a long-lived client
//   lost almost the whole region after 20 killed servers); here they leave with the session's region, which is retired
//   when the session and its last local lease are gone (SharedBuffer reference count): unmapped, fd closed, file
//   unlinked. The kernel frees the pages once the peer's mapping is gone too.
// - A departed peer may still have the region mapped (a stopped process, a hostile one that kept the fd, a child it
//   forked) and write into it at any time; no check on our side can prove otherwise. A region per session is never
//   handed to anyone else, so such late writes can only corrupt memory no live session uses. Tracking in-flight slices
//   per session and returning them to a shared region would put them back into use while that peer can still write.
// - It also keeps servers apart: one server cannot read or corrupt the messages a client exchanges with another.
// - Cost, measured with `connect-cost` (bench/Shmipc.Channels.Benchmarks/README.md): memory is per session instead of per process (only touched
//   pages of a memfd region: slice headers plus slices in use), and every connect creates and lays out a region.
internal sealed unsafe class ClientSessionMemory
{
    private const int CreateAttempts = 3;

    private ClientSessionMemory(ClientShmNames names, SharedBuffer buffer, SharedRegion queueRegion, IoQueuePair queues)
    {
        Names = names;
        Buffer = buffer;
        QueueRegion = queueRegion;
        Queues = queues;
    }

    public ClientShmNames Names { get; }

    /// <summary>The buffer region; the caller owns the one reference it starts with.</summary>
    public SharedBuffer Buffer { get; }

    public SharedRegion QueueRegion { get; }

    public IoQueuePair Queues { get; }

    /// <summary>Creates and lays out both objects for a session with <paramref name="options"/>.</summary>
    /// <param name="options">Sizes, mode and name prefix.</param>
    /// <param name="epoch">The hot-restart epoch for the names (<see cref="ClientShmNames"/>); null for a first connection.</param>
    /// <param name="seal">Whether memfds are sealed against shrinking (false only to play an unsealed shmipc-go client in tests).</param>
    public static ClientSessionMemory Create(ShmipcClientOptions options, ulong? epoch = null, bool seal = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            var names = ClientShmNames.Create(options.PathPrefix, epoch);
            try
            {
                return Create(options, names, seal);
            }
            catch (ShmipcException e) when (e.Errno == Native.Errno.EEXIST && attempt < CreateAttempts)
            {
                // 64 random bits collided with an existing file: someone can list /dev/shm and planted a file at a name
                // we had not used yet (the queue after the buffer), or an old file survived. Names are cheap; take new ones.
            }
        }
    }

    /// <summary>Releases both objects (the buffer only when its last lease is gone too).</summary>
    public void Dispose(bool deleteQueueFile)
    {
        QueueRegion.DeleteOnDispose = deleteQueueFile;
        QueueRegion.Dispose();
        Buffer.Release();
    }

    private static ClientSessionMemory Create(ShmipcClientOptions options, ClientShmNames names, bool seal)
    {
        var isFile = options.MemoryMapType == MemoryMapType.DevShmFile;
        var buffer = CreateBuffer(options, names.Buffer, seal);
        SharedRegion? queueRegion = null;
        try
        {
            var queueSize = IoQueuePair.SizeFor((uint)options.QueueCapacity);
            queueRegion = isFile
                ? SharedRegion.CreateFile(names.Queue, queueSize, options.FileMode)
                : SharedRegion.CreateMemFd(ClientShmNames.MemFd(names.Queue), queueSize, seal: seal);
            var queues = IoQueuePair.Create(queueRegion.Base, queueRegion.Length, (uint)options.QueueCapacity, isCreator: true, QueueLayout.Current);
            return new ClientSessionMemory(names, buffer, queueRegion, queues);
        }
        catch
        {
            queueRegion?.Dispose();
            buffer.Release();
            throw;
        }
    }

    private static SharedBuffer CreateBuffer(ShmipcClientOptions options, string name, bool seal)
    {
        var region = options.MemoryMapType == MemoryMapType.MemFd
            ? SharedRegion.CreateMemFd(ClientShmNames.MemFd(name), options.BufferCapacity, reserve: false, seal: seal)
            : SharedRegion.CreateFile(name, options.BufferCapacity, options.FileMode);
        try
        {
            Span<(uint, uint)> classes = stackalloc (uint, uint)[options.SizeClasses.Count];
            for (var i = 0; i < classes.Length; i++)
            {
                classes[i] = ((uint)options.SizeClasses[i].SliceSize, (uint)options.SizeClasses[i].Percent);
            }

            var manager = BufferManager.Create(region.Base, region.Length, classes);
            return new SharedBuffer(region, manager, name, onLastRelease: null);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }
}
