using Shmipc.Channels.Memory;

namespace Shmipc.Channels.Properties;

/// <summary>
/// A region (created on exactly-sized native memory, read through a second manager made by Map, as a receiving
/// peer would) holding one valid message chain built per a <see cref="ChainCase"/>, with the segments and bytes
/// it must read back as.
/// </summary>
internal sealed unsafe class ChainFixture : IDisposable
{
    private readonly NativeBuffer _memory;

    public ChainFixture(ChainCase chain)
    {
        _memory = NativeBuffer.WithGuardPage(chain.Region.Length);
        Lists = chain.Region.ComputeLists()!;
        Random = new Random(chain.Seed);
        Random.NextBytes(_memory.Span); // stale bytes everywhere a header is not written
        Writer = BufferManager.Create(_memory.Pointer, _memory.Length, chain.Region.ToCreateArgument());
        Reader = BufferManager.Map(_memory.Pointer, _memory.Length);
        Stamp = chain.Seed;
        (Slices, Lengths) = chain.UseCommitChain ? BuildWithCommit(chain) : BuildWithLink(chain);
        Segments = Slices.Select((s, j) => new SliceSegment(s, s + 20, Lengths[j])).ToArray();
    }

    public ExpectedList[] Lists { get; }

    public Random Random { get; }

    public BufferManager Writer { get; }

    public BufferManager Reader { get; }

    public int Stamp { get; }

    public uint[] Slices { get; }

    public int[] Lengths { get; }

    public SliceSegment[] Segments { get; }

    public long Length => _memory.Length;

    public byte* Base => _memory.Pointer;

    public ExpectedList ListOf(uint slice) => Lists.First(l => l.IsSliceHeader(slice));

    public int[] FreeCounts() => Lists.Select(l => Reader.GetList(l.Index).FreeCount).ToArray();

    public void Dispose() => _memory.Dispose();

    private (uint[] Slices, int[] Lengths) BuildWithCommit(ChainCase chain)
    {
        // Between (count − 1) and count largest slices' worth of bytes, so most chains need several slices.
        long maxBytes = chain.SliceCount * (long)Writer.MaxSliceSize;
        var buffer = new uint[64];
        int n = Writer.TryAllocateChain(Random.NextInt64(maxBytes - Writer.MaxSliceSize, maxBytes + 1), buffer);
        if (n == 0)
        {
            return BuildWithLink(chain); // region too small for that many bytes
        }

        uint[] slices = buffer[..n];
        FillData(slices);
        long capacity = slices.Sum(s => (long)ListOf(s).CapPerBuffer);
        long length = Random.NextInt64(0, capacity + 1);
        var lengths = new List<int>();
        long remaining = length;
        while (lengths.Count < n && (lengths.Count == 0 || remaining > 0))
        {
            int take = (int)Math.Min(ListOf(slices[lengths.Count]).CapPerBuffer, remaining);
            lengths.Add(take);
            remaining -= take;
        }

        int used = Writer.CommitChain(slices, length);
        Verify.That(used == lengths.Count, $"CommitChain kept {used} slices, expected {lengths.Count}");
        return (slices[..used], [.. lengths]);
    }

    private (uint[] Slices, int[] Lengths) BuildWithLink(ChainCase chain)
    {
        var slices = new List<uint>();
        for (int k = 0; k < chain.SliceCount; k++)
        {
            if (!Writer.TryAllocate(Random.Next(0, (int)Writer.MaxSliceSize + 1), out uint slice))
            {
                break;
            }

            slices.Add(slice);
        }

        Verify.That(slices.Count > 0, $"no slice could be allocated in a fresh region");
        uint[] array = [.. slices];
        FillData(array);
        int[] lengths = array.Select(s => Random.Next(5) == 0 ? 0 : Random.Next(0, (int)ListOf(s).CapPerBuffer + 1)).ToArray();
        for (int j = 0; j < array.Length; j++)
        {
            Writer.SetSliceLength(array[j], lengths[j]);
        }

        Writer.LinkChain(array);
        return (array, lengths);
    }

    private void FillData(uint[] slices)
    {
        for (int j = 0; j < slices.Length; j++)
        {
            Patterns.Fill(Writer.GetSliceData(slices[j]), Stamp, j);
        }
    }
}
