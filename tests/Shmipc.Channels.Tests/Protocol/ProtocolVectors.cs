using System.Text.Json;

namespace Shmipc.Channels.Tests.Protocol;

/// <summary>
/// Access to the golden vectors captured from shmipc-go. They live in <c>../shared/vectors</c> relative to the
/// repository root (the folder holding Shmipc.Channels.sln).
/// </summary>
internal static class ProtocolVectors
{
    private static readonly Lazy<string> s_directory = new(FindVectorsDirectory);

    public static string Directory => s_directory.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Directory, .. parts]);

    public static byte[] Read(params string[] parts) => File.ReadAllBytes(PathOf(parts));

    public static JsonDocument ReadJson(params string[] parts) => JsonDocument.Parse(File.ReadAllBytes(PathOf(parts)));

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

    private static string FindVectorsDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shmipc.Channels.sln")))
            {
                string vectors = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "vectors"));
                if (!System.IO.Directory.Exists(vectors))
                {
                    throw new DirectoryNotFoundException($"Golden vectors not found at {vectors} (../shared/vectors from the repository root {dir.FullName}).");
                }

                return vectors;
            }
        }

        throw new DirectoryNotFoundException($"No folder containing Shmipc.Channels.sln above {AppContext.BaseDirectory}.");
    }
}
