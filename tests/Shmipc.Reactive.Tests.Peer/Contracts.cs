using System.Text.Json.Serialization;

namespace Shmipc.Reactive.Tests.Peer;

/// <summary>An item the test process publishes.</summary>
public sealed record Reading(int Sequence, int Value, string Payload);

/// <summary>What the peer's pipeline sends back: a running summary after each batch, or the error it saw.</summary>
public sealed record Summary(int Batches, int Count, long Sum, int[] LastBatch, string? Error);

/// <summary>What the slow consumer saw.</summary>
public sealed record SlowReport(int Count, bool InOrder, int MaxUnread, long FallbackReads, string? Error);

/// <summary>Source-generated JSON metadata shared by the test and the peer.</summary>
[JsonSerializable(typeof(Reading))]
[JsonSerializable(typeof(Summary))]
[JsonSerializable(typeof(SlowReport))]
public sealed partial class PeerJson : JsonSerializerContext;
