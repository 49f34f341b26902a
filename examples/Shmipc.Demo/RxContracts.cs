using System.Text.Json.Serialization;

namespace Shmipc.Demo;

/// <summary>A sensor reading the client publishes in the Rx step.</summary>
internal sealed record Reading(int Sensor, int Value);

/// <summary>What the server's pipeline sends back for each window of high readings.</summary>
internal sealed record Summary(int Window, int Count, double Average, int Max);

/// <summary>Source-generated JSON metadata for the Rx step: no reflection at run time.</summary>
[JsonSerializable(typeof(Reading))]
[JsonSerializable(typeof(Summary))]
internal sealed partial class DemoJson : JsonSerializerContext;
