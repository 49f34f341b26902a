namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// Locates the golden vectors: <c>tests/vectors</c> under the repository root (the folder holding
/// Shmipc.Channels.sln). They are part of the repository, so a fresh clone runs every vector test.
/// </summary>
public static class VectorFiles
{
    private static readonly Lazy<string> s_root = new(FindRepositoryRoot);

    /// <summary>The repository root (the directory containing Shmipc.Channels.sln).</summary>
    public static string RepositoryRoot => s_root.Value;

    /// <summary>The vectors folder, <c>&lt;root&gt;/tests/vectors</c>.</summary>
    public static string VectorsDirectory => System.IO.Path.Combine(RepositoryRoot, "tests", "vectors");

    /// <summary>Full path of a vector file, e.g. <c>Get("shm", "B_small_region_after_init.bin")</c>.</summary>
    public static string Get(params string[] parts) =>
        System.IO.Path.Combine([VectorsDirectory, .. parts]);

    /// <summary>Reads a vector file; fails with a clear message when the file is missing.</summary>
    public static byte[] ReadAllBytes(params string[] parts)
    {
        string path = Get(parts);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"golden vector not found: {path} (the vectors live in tests/vectors under the repository root {RepositoryRoot})", path);
        }

        return File.ReadAllBytes(path);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Shmipc.Channels.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Shmipc.Channels.sln not found above {AppContext.BaseDirectory}");
    }
}
