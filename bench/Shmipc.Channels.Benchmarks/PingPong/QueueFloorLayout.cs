using System.IO.MemoryMappedFiles;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Benchmarks.PingPong;

/// <summary>
/// The queue floor's shared file (/dev/shm, mapped by both processes): shmipc's own shared-memory structures and
/// nothing else. Two IO queues (requests, replies) and one buffer region laid out by <see cref="BufferManager"/> with one
/// slice class per payload size of the run, exactly as a session's (docs/PROTOCOL.md §4.3, §4.5).
/// </summary>
/// <remarks>
/// Design: the harness creates the file and lays out both queues and the region; the child maps them (the same
/// validating Map a session uses). Each queue has one producer and one consumer, and both processes allocate from and
/// recycle into the one region, as the two sides of a session do. Each class gets at least <see cref="SlicesPerClass"/>
/// slices: a round trip holds two at a time.
/// </remarks>
internal sealed unsafe class QueueFloorLayout : IDisposable
{
    public const int SlicesPerClass = 8;
    private const int QueueCapacity = 64;
    private const long RequestsOffset = 0;
    private const long RegionOffset = 4096;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    private QueueFloorLayout(MemoryMappedFile file, MemoryMappedViewAccessor view, long length, bool create, ReadOnlySpan<(uint SliceSize, uint Percent)> classes)
    {
        _file = file;
        _view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        var basePointer = pointer + view.PointerOffset;
        var queueSize = QueueLayout.QueueSize(QueueCapacity);
        var layout = QueueLayout.Current;
        if (create)
        {
            Requests = IoQueue.Create(basePointer + RequestsOffset, queueSize, QueueCapacity, layout);
            Replies = IoQueue.Create(basePointer + RequestsOffset + queueSize, queueSize, QueueCapacity, layout);
            Buffers = BufferManager.Create(basePointer + RegionOffset, length - RegionOffset, classes);
        }
        else
        {
            Requests = IoQueue.Map(basePointer + RequestsOffset, queueSize, layout);
            Replies = IoQueue.Map(basePointer + RequestsOffset + queueSize, queueSize, layout);
            Buffers = BufferManager.Map(basePointer + RegionOffset, length - RegionOffset);
        }
    }

    /// <summary>Client → server.</summary>
    public IoQueue Requests { get; }

    /// <summary>Server → client.</summary>
    public IoQueue Replies { get; }

    public BufferManager Buffers { get; }

    /// <summary>Creates the file for these payload sizes (the harness); the caller deletes the path once the child has mapped it.</summary>
    public static QueueFloorLayout Create(string path, IReadOnlyCollection<int> sizes)
    {
        var classes = Classes(sizes, out var regionLength);
        var length = RegionOffset + regionLength;
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.CreateNew, null, length, MemoryMappedFileAccess.ReadWrite);
        return new QueueFloorLayout(file, file.CreateViewAccessor(0, length), length, create: true, classes);
    }

    /// <summary>Maps an existing file (the child).</summary>
    public static QueueFloorLayout Open(string path)
    {
        var length = new FileInfo(path).Length;
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        return new QueueFloorLayout(file, file.CreateViewAccessor(0, length), length, create: false, []);
    }

    /// <summary>
    /// One class per size, its percent of the region proportional to what <see cref="SlicesPerClass"/> slices of it
    /// need (at least 1 %), and a region large enough that every class gets that many.
    /// </summary>
    internal static (uint SliceSize, uint Percent)[] Classes(IReadOnlyCollection<int> sizes, out long regionLength)
    {
        var distinct = sizes.Distinct().Order().Select(s => (uint)s).ToArray();
        var need = distinct.Select(s => (double)SlicesPerClass * (s + BufferManagerLayout.SliceHeaderSize)).ToArray();
        var total = need.Sum();
        var percents = need.Select(n => (int)Math.Max(1, Math.Floor(100 * n / total))).ToArray();
        var largest = Array.IndexOf(need, need.Max());
        percents[largest] += 100 - percents.Sum();
        var regionCap = distinct.Select((s, i) => Math.Ceiling(need[i] * 100 / percents[i]) + 100).Max();
        regionLength = (long)regionCap + BufferManagerLayout.ManagerHeaderSize + ((long)BufferManagerLayout.ListHeaderSize * distinct.Length);
        return distinct.Zip(percents, (s, p) => (s, (uint)p)).ToArray();
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
