namespace Shmipc.Fuzz;

/// <summary>
/// The seed inputs of a target: the golden vectors captured from shmipc-go in <c>tests/vectors</c>. They are read
/// where they are (the test) or copied into a corpus folder (the fuzzers write new inputs there), never duplicated
/// in the repository.
/// </summary>
public static class SeedCorpus
{
    /// <summary>
    /// The <c>tests/vectors</c> folder of the repository that holds <paramref name="startDirectory"/> (or the current
    /// directory, then this program's folder); null when none holds one.
    /// </summary>
    /// <param name="startDirectory">Where to start looking upwards for <c>Shmipc.Channels.sln</c>.</param>
    public static string? FindVectorsDirectory(string? startDirectory = null)
    {
        foreach (string start in startDirectory is null ? [Environment.CurrentDirectory, AppContext.BaseDirectory] : new[] { startDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Shmipc.Channels.sln")))
                {
                    return Path.Combine(dir.FullName, "tests", "vectors");
                }
            }
        }

        return null;
    }

    /// <summary>The seed files of <paramref name="target"/>: the non-empty <c>.bin</c> files of its vector folders, sorted.</summary>
    /// <param name="target">The target.</param>
    /// <param name="vectorsDirectory">The <c>tests/vectors</c> folder.</param>
    public static IReadOnlyList<string> Files(FuzzTarget target, string vectorsDirectory)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.SeedFolders
            .SelectMany(folder => Directory.GetFiles(Path.Combine(vectorsDirectory, folder), "*.bin"))
            .Where(path => new FileInfo(path).Length > 0) // AFL refuses empty seeds; the v2 server replies are empty
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Copies the seed files of <paramref name="target"/> into <paramref name="corpusDirectory"/> (created if needed).</summary>
    /// <param name="target">The target.</param>
    /// <param name="vectorsDirectory">The <c>tests/vectors</c> folder.</param>
    /// <param name="corpusDirectory">The folder to fill.</param>
    /// <returns>The number of files copied.</returns>
    public static int CopyTo(FuzzTarget target, string vectorsDirectory, string corpusDirectory)
    {
        Directory.CreateDirectory(corpusDirectory);
        IReadOnlyList<string> files = Files(target, vectorsDirectory);
        foreach (string file in files)
        {
            // folder_name.bin keeps the origin visible and makes names unique across folders.
            string name = $"{Path.GetFileName(Path.GetDirectoryName(file))}_{Path.GetFileName(file)}";
            File.Copy(file, Path.Combine(corpusDirectory, name), overwrite: true);
        }

        return files.Count;
    }
}
