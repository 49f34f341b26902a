using System.Text.RegularExpressions;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Repository;

/// <summary>
/// Messages users see say what was wrong in their own words: no string literal in the libraries cites a document or
/// a section of one (comments may, and cite <c>docs/PROTOCOL.md §N</c>).
/// </summary>
public sealed partial class UserMessageTests
{
    [Theory]
    [InlineData("Shmipc.Channels")]
    [InlineData("Shmipc.Reactive")]
    public void StringLiterals_CiteNoDocument(string project)
    {
        var root = Path.Combine(VectorFiles.RepositoryRoot, project);
        var offenders = new List<string>();
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var code = lines[i].TrimStart();
                if (code.StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (Match literal in StringLiteral().Matches(code))
                {
                    if (DocumentCitation().IsMatch(literal.Value))
                    {
                        offenders.Add($"{Path.GetRelativePath(VectorFiles.RepositoryRoot, file)}:{i + 1}: {literal.Value}");
                    }
                }
            }
        }

        Assert.True(offenders.Count == 0, "string literals cite a document:\n" + string.Join('\n', offenders));
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"§|PROTOCOL|DESIGN\.md|ARCHITECTURE\.md|CONTRIBUTING\.md|STYLE")]
    private static partial Regex DocumentCitation();
}
