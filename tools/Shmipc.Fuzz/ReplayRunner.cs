namespace Shmipc.Fuzz;

/// <summary>
/// Runs a target over saved inputs without a fuzzer: a corpus, the crashes a fuzzer found, or one file. Reports each
/// input whose run threw anything other than the <see cref="Shmipc.Channels.ShmipcException"/> the targets catch.
/// </summary>
public static class ReplayRunner
{
    /// <summary>Replays every file under <paramref name="paths"/> (folders recursively) and prints the findings.</summary>
    /// <param name="target">The target.</param>
    /// <param name="paths">Files or folders.</param>
    /// <param name="output">Where findings and the summary go.</param>
    /// <returns>The number of inputs that failed.</returns>
    public static int Run(FuzzTarget target, IEnumerable<string> paths, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(output);
        int runs = 0;
        int failures = 0;
        foreach (string file in paths.SelectMany(Expand))
        {
            runs++;
            Exception? finding = target.Check(File.ReadAllBytes(file));
            if (finding is not null)
            {
                failures++;
                output.WriteLine($"FAIL {file}: {finding}");
            }
        }

        output.WriteLine($"{target.Name}: replayed {runs} input(s), {failures} failed");
        return failures;
    }

    private static IEnumerable<string> Expand(string path)
    {
        if (Directory.Exists(path))
        {
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
        }

        if (File.Exists(path))
        {
            return [path];
        }

        throw new FileNotFoundException($"no such file or folder: {path}", path);
    }
}
