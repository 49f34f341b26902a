namespace Shmipc.Channels.Tests.TestSupport;

/// <summary>
/// Locates the golden vectors: <c>../shared/vectors</c> relative to the repository root (the folder holding
/// Shmipc.Channels.sln). CI clones the repository elsewhere with <c>shared/</c> beside it.
/// </summary>
public static class VectorFiles
{
    private static readonly Lazy<string> s_root = new(FindRepositoryRoot);

    /// <summary>The repository root (the directory containing Shmipc.Channels.sln).</summary>
    public static string RepositoryRoot => s_root.Value;

    /// <summary>The vectors folder, <c>&lt;root&gt;/../shared/vectors</c>.</summary>
    public static string VectorsDirectory => System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, "..", "shared", "vectors"));

    /// <summary>Full path of a vector file, e.g. <c>Get("shm", "B_small_region_after_init.bin")</c>.</summary>
    public static string Get(params string[] parts) =>
        System.IO.Path.Combine([VectorsDirectory, .. parts]);

    /// <summary>Reads a vector file; fails with a clear message when the vectors are not beside the repository.</summary>
    public static byte[] ReadAllBytes(params string[] parts)
    {
        string path = Get(parts);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"golden vector not found: {path} (expected ../shared/vectors beside the repository root {RepositoryRoot})", path);
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
