namespace Shmipc.Channels;

/// <summary>
/// One size class of the shared buffer region: slices of <see cref="SliceSize"/> bytes that take
/// <see cref="Percent"/> percent of the region (shmipc-go <c>SizePercentPair</c>).
/// </summary>
/// <param name="SliceSize">Data capacity of each slice in bytes (the 20-byte slice header comes on top).</param>
/// <param name="Percent">Share of the region, in percent; the shares of all classes add up to 100.</param>
public readonly record struct BufferSizeClass(int SliceSize, int Percent);
