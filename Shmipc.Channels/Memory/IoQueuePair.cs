namespace Shmipc.Channels.Memory;

/// <summary>
/// The shmipc queue object: two equal <see cref="IoQueue"/>s back to back (docs/PROTOCOL.md §4.3). The first half
/// carries client → server elements, the second half server → client. The creator (client) sends on the first
/// half and receives on the second; the mapper (server) the other way round.
/// </summary>
/// <remarks>
/// Like <see cref="BufferManager"/>, the pair does not own the memory: the region owner keeps it mapped.
/// <code>
/// [ queue 0: header 24 | 12·cap ][ queue 1: header 24 | 12·cap ]     size = 2·(24 + 12·cap)
///   client → server                server → client
/// </code>
/// </remarks>
internal sealed unsafe class IoQueuePair
{
    private IoQueuePair(IoQueue first, IoQueue second, bool isCreator, long length)
    {
        SendQueue = isCreator ? first : second;
        ReceiveQueue = isCreator ? second : first;
        IsCreator = isCreator;
        Length = length;
    }

    /// <summary>The queue this process produces into.</summary>
    public IoQueue SendQueue { get; }

    /// <summary>The queue this process consumes from.</summary>
    public IoQueue ReceiveQueue { get; }

    /// <summary>True for the creating side (client): sends on the first half.</summary>
    public bool IsCreator { get; }

    /// <summary>Header layout of both queues.</summary>
    public QueueLayout Layout => SendQueue.Layout;

    /// <summary>Bytes of the queue object.</summary>
    public long Length { get; }

    /// <summary>Object size for <paramref name="capacity"/> elements per queue: 2·(24 + 12·cap).</summary>
    public static long SizeFor(uint capacity) => QueueLayout.PairSize(capacity);

    /// <summary>Zeroes the object and writes both caps (Go <c>createQueueManager</c>).</summary>
    /// <param name="baseAddress">Start of the writable mapping.</param>
    /// <param name="length">Must be exactly <see cref="SizeFor"/>(<paramref name="capacity"/>).</param>
    /// <param name="capacity">Elements per queue (&gt; 0).</param>
    /// <param name="isCreator">True for the client (sends on the first half).</param>
    /// <param name="layout">Header layout; <see cref="QueueLayout.Current"/> for real peers.</param>
    /// <exception cref="ShmipcException">InvalidConfiguration: capacity 0 or a length mismatch.</exception>
    public static IoQueuePair Create(byte* baseAddress, long length, uint capacity, bool isCreator, QueueLayout layout)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (capacity == 0 || SizeFor(capacity) != length)
        {
            MemoryThrowHelper.ThrowInvalidConfiguration(
                $"IO queue pair: capacity {capacity} needs {SizeFor(capacity)} bytes, {length} given (capacity must be > 0)");
        }

        long half = length / 2;
        IoQueue first = IoQueue.Create(baseAddress, half, capacity, layout);
        IoQueue second = IoQueue.Create(baseAddress + half, half, capacity, layout);
        return new IoQueuePair(first, second, isCreator, length);
    }

    /// <summary>
    /// Attaches to a queue object made by the peer: splits it in half and reads cap from each header (Go
    /// <c>mappingQueueManager</c>), validating <c>cap &gt; 0</c>, <c>24 + 12·cap == length/2</c> and the indexes.
    /// </summary>
    /// <param name="baseAddress">Start of the mapping.</param>
    /// <param name="length">Object size (fstat).</param>
    /// <param name="isCreator">False for the server (the usual mapper): sends on the second half.</param>
    /// <param name="layout">Header layout; null means <see cref="QueueLayout.Current"/>.</param>
    /// <exception cref="ShmipcException">CorruptSharedMemory, naming the half, the field and the value.</exception>
    public static IoQueuePair Map(byte* baseAddress, long length, bool isCreator = false, QueueLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        QueueLayout actual = layout ?? QueueLayout.Current;
        if (length < 2 * QueueLayout.HeaderSize || length % 2 != 0)
        {
            MemoryThrowHelper.ThrowCorrupt($"IO queue pair: object size {length} is not two queues (even, at least {2 * QueueLayout.HeaderSize} bytes)");
        }

        long half = length / 2;
        IoQueue first = MapHalf(baseAddress, half, actual, "first (client → server)");
        IoQueue second = MapHalf(baseAddress + half, half, actual, "second (server → client)");
        return new IoQueuePair(first, second, isCreator, length);
    }

    private static IoQueue MapHalf(byte* address, long length, QueueLayout layout, string which)
    {
        try
        {
            return IoQueue.Map(address, length, layout);
        }
        catch (ShmipcException e) when (e.ErrorCode == ShmipcErrorCode.CorruptSharedMemory)
        {
            throw MemoryThrowHelper.CreateCorrupt($"{which} half: {e.Message}");
        }
    }
}
