namespace Shmipc.Channels.Properties;

/// <summary>What the allocating thread tells the verifying thread about one message (the queue element's payload).</summary>
internal sealed record InFlightMessage(int Tag, int Sequence, uint[] Slices, int[] Lengths, long Length, bool IsChain);
