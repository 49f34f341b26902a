using System.Text.Json;
using Shmipc.Channels.Tests.TestSupport;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>
/// Access to the golden vectors captured from shmipc-go. They live in <c>tests/vectors</c> under the
/// repository root (the folder holding Shmipc.Channels.sln).
/// </summary>
internal static class ProtocolVectors
{
    public static string Directory => VectorFiles.VectorsDirectory;

    public static string PathOf(params string[] parts) => VectorFiles.Get(parts);

    public static byte[] Read(params string[] parts) => VectorFiles.ReadAllBytes(parts);

    public static JsonDocument ReadJson(params string[] parts) => JsonDocument.Parse(VectorFiles.ReadAllBytes(parts));

    /// <summary>The queue and buffer paths of the announcement in handshake <paramref name="name"/>, from handshakes.json (not from our decoder).</summary>
    public static (string QueuePath, string BufferPath) HandshakePaths(string name)
    {
        using JsonDocument doc = ReadJson("handshake", "handshakes.json");
        foreach (JsonElement handshake in doc.RootElement.EnumerateArray())
        {
            if (handshake.GetProperty("name").GetString() != name)
            {
                continue;
            }

            foreach (JsonElement item in handshake.GetProperty("items").EnumerateArray())
            {
                if (item.TryGetProperty("decoded", out JsonElement decoded) && decoded.TryGetProperty("queue_path", out JsonElement queue))
                {
                    return (queue.GetString()!, decoded.GetProperty("buffer_path").GetString()!);
                }
            }
        }

        throw new InvalidOperationException($"handshakes.json has no announcement for '{name}'");
    }
}
