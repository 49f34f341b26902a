using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Tests.Inspect;

/// <summary>
/// A buffer region and a queue pair as /dev/shm files named like one client session's objects
/// (<c>…_buffer</c>, <c>…_queue_0</c>), laid out by the real <see cref="BufferManager"/> and <see cref="IoQueuePair"/>,
/// which tests then use or deliberately damage. Both files are removed on dispose.
/// </summary>
internal sealed unsafe class RegionFiles : IDisposable
{
    public const uint QueueCapacity = 16;
    public const long BufferBytes = 64 * 1024;

    private readonly SharedRegion _buffer;
    private readonly SharedRegion _queue;

    public RegionFiles()
    {
        Stem = $"/dev/shm/shmipc_inspect_{Guid.NewGuid():N}";
        _buffer = SharedRegion.CreateFile(BufferPath, BufferBytes);
        try
        {
            _queue = SharedRegion.CreateFile(QueuePath, IoQueuePair.SizeFor(QueueCapacity));
        }
        catch
        {
            _buffer.Dispose();
            throw;
        }

        Manager = BufferManager.Create(_buffer.Base, BufferBytes, [(1024u, 50u), (4096u, 50u)]);
        Queues = IoQueuePair.Create(_queue.Base, _queue.Length, QueueCapacity, isCreator: true, QueueLayout.Current);
    }

    public string Stem { get; }

    public string BufferPath => Stem + "_buffer";

    public string QueuePath => Stem + "_queue_0";

    public BufferManager Manager { get; }

    /// <summary>The client's view: SendQueue is the first (client→server) half.</summary>
    public IoQueuePair Queues { get; }

    public byte* Buffer => _buffer.Base;

    public byte* Queue => _queue.Base;

    /// <summary>Absolute offset of list <paramref name="list"/>'s header.</summary>
    public uint ListOffset(int list) => Manager.GetList(list).ListOffset;

    public void WriteBufferU32(long offset, uint value) => Unsafe.WriteUnaligned(Buffer + offset, value);

    public void WriteQueueI64(long offset, long value) => Unsafe.WriteUnaligned(Queue + offset, value);

    public void WriteQueueU32(long offset, uint value) => Unsafe.WriteUnaligned(Queue + offset, value);

    /// <summary>A hash of both files' bytes, to prove the inspector wrote nothing.</summary>
    public string Fingerprint() =>
        Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(BufferPath))) + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(QueuePath)));

    public void Dispose()
    {
        _queue.Dispose();
        _buffer.Dispose();
    }
}
