using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Shmipc.Channels.Memory.BufferManagerLayout;

namespace Shmipc.Channels.Memory;

/// <summary>
/// The shmipc buffer manager over one buffer region (shmipc-go <c>bufferManager</c>, docs/PROTOCOL.md §4.4–§4.8):
/// size-classed free lists of slices, shared by every process that maps the region.
/// </summary>
/// <remarks>
/// <para>The manager does not own the memory: the caller (the region owner, e.g. <c>SharedRegion</c>) keeps the
/// mapping alive for the manager's lifetime and passes its base address and length.</para>
/// <para>Everything read from the region is treated as hostile: <see cref="Map"/> validates every header field,
/// and every offset that arrives from the peer (queue elements, <c>next</c> links) is checked to be a slice
/// header of some list before it is dereferenced. Failures throw <see cref="ShmipcException"/> with
/// <see cref="ShmipcErrorCode.CorruptSharedMemory"/>; nothing is ever read or written outside the mapping.</para>
/// <para>Thread safety: allocation and recycling are lock-free and safe from any thread of either process
/// (see <see cref="BufferList"/>). A slice is owned by whoever popped it (or received it in a message) until it
/// is recycled; its header and data are plain memory published by the queue tail increment.</para>
/// </remarks>
internal sealed unsafe partial class BufferManager
{
    private readonly byte* _base;
    private readonly BufferList[] _lists;

    private BufferManager(byte* baseAddress, long length, BufferList[] lists, uint usedLength, bool isCreator)
    {
        _base = baseAddress;
        Length = length;
        _lists = lists;
        UsedLength = usedLength;
        IsCreator = isCreator;
        long total = 0;
        uint max = 0;
        foreach (BufferList list in lists)
        {
            total += list.SliceCount;
            max = Math.Max(max, list.CapPerBuffer);
        }

        TotalSliceCount = total;
        MaxSliceSize = max;
    }

    /// <summary>Length of the mapping in bytes.</summary>
    public long Length { get; }

    /// <summary>The manager header's usedLength: bytes of all lists after the 8-byte header.</summary>
    public uint UsedLength { get; }

    /// <summary>True if this process created the region (bumps the counter at +20, otherwise +24).</summary>
    public bool IsCreator { get; }

    /// <summary>Number of buffer lists.</summary>
    public int ListCount => _lists.Length;

    /// <summary>Slices in all lists together; also the bound of every chain walk.</summary>
    public long TotalSliceCount { get; }

    /// <summary>Largest capPerBuffer of all lists.</summary>
    public uint MaxSliceSize { get; }

    /// <summary>Σ cap·capPerBuffer (shmipc <c>CapacityOfShareMemoryInBytes</c>, §10).</summary>
    public long CapacityInBytes
    {
        get
        {
            long sum = 0;
            foreach (BufferList list in _lists)
            {
                sum += (long)list.SliceCount * list.CapPerBuffer;
            }

            return sum;
        }
    }

    /// <summary>Σ (cap − size)·capPerBuffer (shmipc <c>AllInUsedShareMemoryInBytes</c>, §10); includes slices held by the peer.</summary>
    public long InUseBytes
    {
        get
        {
            long sum = 0;
            foreach (BufferList list in _lists)
            {
                sum += ((long)list.SliceCount - list.FreeCount) * list.CapPerBuffer;
            }

            return sum;
        }
    }

    /// <summary>
    /// Lays out a fresh buffer region exactly as shmipc-go <c>createBufferManager</c> (§4.5, §4.6): classes sorted
    /// ascending by slice size, <c>n = floor(floor(regionCap·percent/100)/(size+20))</c> slices per list with
    /// <c>regionCap = length − 36·classes − 8</c>, lists contiguous from offset 8, free lists fully linked.
    /// </summary>
    /// <param name="baseAddress">Start of the writable mapping.</param>
    /// <param name="length">Mapping length (at most 4 GiB − 1: region offsets are u32).</param>
    /// <param name="classes">(slice size, percent of the region) pairs; percents must add up to 100.</param>
    /// <exception cref="ShmipcException">InvalidConfiguration: no classes, a zero or oversized slice size, percents
    /// not summing to 100, a class that gets 0 slices, or a layout that does not fit.</exception>
    public static BufferManager Create(byte* baseAddress, long length, ReadOnlySpan<(uint SliceSize, uint Percent)> classes)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (classes.IsEmpty || classes.Length > ushort.MaxValue)
        {
            MemoryThrowHelper.ThrowInvalidConfiguration($"buffer slice classes: {classes.Length} given, need 1..{ushort.MaxValue}");
        }

        long overhead = ManagerHeaderSize + ((long)ListHeaderSize * classes.Length);
        if (length <= overhead || length > uint.MaxValue)
        {
            MemoryThrowHelper.ThrowInvalidConfiguration(
                $"buffer region length {length} cannot hold {classes.Length} lists (needs more than {overhead} bytes, at most {uint.MaxValue})");
        }

        var sorted = classes.ToArray();
        MemoryExtensions.Sort(sorted.AsSpan(), static (a, b) => a.SliceSize.CompareTo(b.SliceSize));
        ulong percentSum = 0;
        foreach ((uint size, uint percent) in sorted)
        {
            percentSum += percent;
            if (size == 0 || size > int.MaxValue - SliceHeaderSize)
            {
                MemoryThrowHelper.ThrowInvalidConfiguration($"buffer slice size {size} is out of range 1..{int.MaxValue - SliceHeaderSize}");
            }

            if (!IsX86 && size % 4 != 0)
            {
                MemoryThrowHelper.ThrowInvalidConfiguration($"buffer slice size {size} must be a multiple of 4 on {RuntimeInformation.ProcessArchitecture}");
            }
        }

        if (percentSum != 100)
        {
            MemoryThrowHelper.ThrowInvalidConfiguration($"the percents of the buffer slice classes add up to {percentSum}, not 100");
        }

        ulong regionCap = (ulong)(length - overhead);
        var lists = new BufferList[sorted.Length];
        ulong offset = ManagerHeaderSize;
        for (int i = 0; i < sorted.Length; i++)
        {
            (uint size, uint percent) = sorted[i];
            uint n = unchecked((uint)(regionCap * percent / 100)) / (size + SliceHeaderSize); // Go: uint32(...) / (size+20)
            if (n == 0)
            {
                MemoryThrowHelper.ThrowInvalidConfiguration(
                    $"buffer slice class {size} ({percent}%) gets 0 slices in a {length}-byte region");
            }

            ulong listBytes = ListBytes(n, size);
            if (offset + listBytes > (ulong)length)
            {
                MemoryThrowHelper.ThrowInvalidConfiguration(
                    $"buffer list {i} ({n} slices of {size}) ends at {offset + listBytes}, beyond the region length {length}");
            }

            lists[i] = BufferList.Initialize(baseAddress, i, (uint)offset, n, size);
            offset += listBytes;
        }

        uint usedLength = (uint)(offset - ManagerHeaderSize);
        Unsafe.WriteUnaligned(baseAddress + ListCountOffset, (ushort)sorted.Length);
        Unsafe.WriteUnaligned(baseAddress + ReservedOffset, (ushort)0);
        Unsafe.WriteUnaligned(baseAddress + UsedLengthOffset, usedLength);
        return new BufferManager(baseAddress, length, lists, usedLength, isCreator: true);
    }

    /// <summary>
    /// Attaches to a region laid out by the peer (shmipc-go <c>mappingBufferManager</c>), validating every header
    /// field against <paramref name="length"/>: listCount &gt; 0, <c>8 + usedLength ≤ length</c>, each list header
    /// and its slices inside usedLength, capPerBuffer and cap &gt; 0, head/tail on slice boundaries, size ≤ cap, and
    /// the lists contiguous and ending exactly at <c>8 + usedLength</c>.
    /// </summary>
    /// <param name="baseAddress">Start of the mapping.</param>
    /// <param name="length">Mapping length (the object size from fstat).</param>
    /// <exception cref="ShmipcException">CorruptSharedMemory, naming the field, its value and the bound.</exception>
    /// <remarks>A negative list size is accepted: it is transient while peers' pops are in flight.</remarks>
    public static BufferManager Map(byte* baseAddress, long length)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (length < ManagerHeaderSize)
        {
            MemoryThrowHelper.ThrowCorrupt($"buffer region: mapping length {length} is shorter than the {ManagerHeaderSize}-byte manager header");
        }

        ushort listCount = Unsafe.ReadUnaligned<ushort>(baseAddress + ListCountOffset);
        uint usedLength = Unsafe.ReadUnaligned<uint>(baseAddress + UsedLengthOffset);
        ulong end = (ulong)ManagerHeaderSize + usedLength;
        if (listCount == 0)
        {
            MemoryThrowHelper.ThrowCorrupt("buffer region: manager header listCount is 0");
        }

        if (end > (ulong)length || end > uint.MaxValue)
        {
            MemoryThrowHelper.ThrowCorrupt(
                $"buffer region: manager header usedLength {usedLength} + {ManagerHeaderSize} exceeds the mapping length {length}");
        }

        if ((ulong)listCount * ListHeaderSize > usedLength)
        {
            MemoryThrowHelper.ThrowCorrupt($"buffer region: listCount {listCount} list headers do not fit in usedLength {usedLength}");
        }

        var lists = new BufferList[listCount];
        ulong offset = ManagerHeaderSize;
        for (int i = 0; i < listCount; i++)
        {
            lists[i] = MapList(baseAddress, i, offset, end);
            offset = lists[i].EndOffset;
        }

        if (offset != end)
        {
            MemoryThrowHelper.ThrowCorrupt(
                $"buffer region: the {listCount} lists end at {offset}, but usedLength {usedLength} says {end}");
        }

        return new BufferManager(baseAddress, length, lists, usedLength, isCreator: false);
    }

    private static BufferList MapList(byte* baseAddress, int index, ulong listOffset, ulong end)
    {
        if (listOffset + ListHeaderSize > end)
        {
            MemoryThrowHelper.ThrowCorrupt($"buffer list {index}: header at {listOffset} extends past the used region end {end}");
        }

        if (!IsX86 && listOffset % 4 != 0)
        {
            MemoryThrowHelper.ThrowCorrupt($"buffer list {index}: header at {listOffset} is not 4-aligned (required on {RuntimeInformation.ProcessArchitecture})");
        }

        byte* header = baseAddress + listOffset;
        int size = Unsafe.ReadUnaligned<int>(header + ListSizeOffset);
        uint cap = Unsafe.ReadUnaligned<uint>(header + ListCapOffset);
        uint head = Unsafe.ReadUnaligned<uint>(header + ListHeadOffset);
        uint tail = Unsafe.ReadUnaligned<uint>(header + ListTailOffset);
        uint capPerBuffer = Unsafe.ReadUnaligned<uint>(header + ListCapPerBufferOffset);
        string where = $"buffer list {index} at {listOffset}";
        if (capPerBuffer == 0 || capPerBuffer > int.MaxValue - SliceHeaderSize)
        {
            MemoryThrowHelper.ThrowCorrupt($"{where}: capPerBuffer {capPerBuffer} is out of range 1..{int.MaxValue - SliceHeaderSize}");
        }

        if (cap == 0)
        {
            MemoryThrowHelper.ThrowCorrupt($"{where}: cap is 0");
        }

        ulong stride = Stride(capPerBuffer);
        ulong listEnd = listOffset + ListBytes(cap, capPerBuffer);
        if (listEnd > end)
        {
            MemoryThrowHelper.ThrowCorrupt(
                $"{where}: cap {cap} × stride {stride} ends at {listEnd}, past the used region end {end}");
        }

        if (!IsX86 && stride % 4 != 0)
        {
            MemoryThrowHelper.ThrowCorrupt($"{where}: capPerBuffer {capPerBuffer} is not a multiple of 4 (required on {RuntimeInformation.ProcessArchitecture})");
        }

        ulong regionBytes = cap * stride;
        if (head >= regionBytes || head % stride != 0)
        {
            MemoryThrowHelper.ThrowCorrupt($"{where}: head {head} is not a slice offset (must be < {regionBytes} and a multiple of {stride})");
        }

        if (tail >= regionBytes || tail % stride != 0)
        {
            MemoryThrowHelper.ThrowCorrupt($"{where}: tail {tail} is not a slice offset (must be < {regionBytes} and a multiple of {stride})");
        }

        if (size > (long)cap)
        {
            MemoryThrowHelper.ThrowCorrupt($"{where}: size {size} exceeds cap {cap}");
        }

        return BufferList.Attach(baseAddress, index, (uint)listOffset, cap, capPerBuffer, isCreator: false);
    }

    private static bool IsX86 => RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    /// <summary>The list at <paramref name="index"/> (ascending slice size for regions made by shmipc creators).</summary>
    public BufferList GetList(int index) => _lists[index];

    /// <summary>Reads the 20-byte header at region offset <paramref name="sliceOffset"/> (bounds-checked, not required to be a slice boundary).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The header would extend past the mapping.</exception>
    public SliceHeader ReadSliceHeader(uint sliceOffset)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)sliceOffset, Length - SliceHeaderSize);
        return SliceHeader.Read(_base + sliceOffset);
    }

    /// <summary>See <see cref="BufferList.WalkFreeList"/>; only meaningful while the region is quiescent.</summary>
    public bool WalkFreeList(int listIndex, out int visited) => _lists[listIndex].WalkFreeList(out visited);

    /// <summary>The bytes <c>[offset, offset + length)</c> of the region.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the mapping.</exception>
    public Span<byte> GetSpan(uint offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)offset + length, Length);
        return new Span<byte>(_base + offset, length);
    }

    /// <summary>The data bytes of a validated segment from <see cref="TryReadChain"/> or <see cref="EnumerateChain"/>.</summary>
    public Span<byte> GetSpan(SliceSegment segment) => GetSpan(segment.DataOffset, segment.Length);

    /// <summary>The whole data area (cap bytes) of a slice this process allocated, for writing.</summary>
    /// <exception cref="ShmipcException">CorruptSharedMemory: not a slice header, or its cap does not match its list.</exception>
    public Span<byte> GetSliceData(uint sliceOffset)
    {
        BufferList list = ResolveSlice(sliceOffset, "slice");
        return new Span<byte>(_base + sliceOffset + SliceHeaderSize, (int)list.CapPerBuffer);
    }

    /// <summary>
    /// Finds the list whose slice region contains <paramref name="offset"/> and checks that the offset is a slice
    /// header of it whose <c>cap</c> equals the list's capPerBuffer.
    /// </summary>
    /// <exception cref="ShmipcException">CorruptSharedMemory, prefixed with <paramref name="context"/>.</exception>
    internal BufferList ResolveSlice(uint offset, string context)
    {
        BufferList? list = FindSlice(offset, out SliceProblem problem);
        if (problem != SliceProblem.None)
        {
            throw CreateSliceProblem(problem, offset, list, context);
        }

        return list!;
    }

    /// <summary>Allocation-free check behind <see cref="ResolveSlice"/>; <paramref name="problem"/> says what is wrong.</summary>
    internal BufferList? FindSlice(uint offset, out SliceProblem problem)
    {
        foreach (BufferList list in _lists)
        {
            if (list.ContainsOffset(offset))
            {
                if ((offset - list.RegionOffset) % list.Stride != 0)
                {
                    problem = SliceProblem.NotAtHeader;
                }
                else
                {
                    uint cap = Unsafe.ReadUnaligned<uint>(_base + offset + SliceCapOffset);
                    problem = cap == list.CapPerBuffer ? SliceProblem.None : SliceProblem.CapMismatch;
                }

                return list;
            }
        }

        problem = SliceProblem.OutsideLists;
        return null;
    }

    /// <summary>Builds the message for a failed <see cref="FindSlice"/> (cold path).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal ShmipcException CreateSliceProblem(SliceProblem problem, uint offset, BufferList? list, string context)
    {
        string detail;
        if (problem == SliceProblem.OutsideLists || list is null)
        {
            detail = $"offset {offset} is outside every slice region of the buffer lists (8..{8L + UsedLength}, mapping length {Length})";
        }
        else if (problem == SliceProblem.NotAtHeader)
        {
            uint relative = offset - list.RegionOffset;
            detail = $"offset {offset} is inside slice #{relative / list.Stride} of buffer list {list.Index} (+{relative % list.Stride} bytes), not at a slice header";
        }
        else
        {
            uint cap = Unsafe.ReadUnaligned<uint>(_base + offset + SliceCapOffset);
            detail = $"slice at offset {offset} has cap {cap}, but buffer list {list.Index} has capPerBuffer {list.CapPerBuffer}";
        }

        return MemoryThrowHelper.CreateCorrupt($"{context}: {detail}");
    }
}
