using System.IO.Compression;
using System.Text.RegularExpressions;
using Shmipc.Channels.Tests.TestSupport;
using Xunit;

namespace Shmipc.Channels.Tests.Packaging;

/// <summary>
/// The packages as a consumer sees them: pack the libraries (or take the packages <c>.ci/run</c> packed, named by
/// <c>SHMIPC_TEST_PACKAGES</c>), check what each package carries, then build <c>tests/PackageConsumer</c> in a
/// temporary folder against those packages only (no project reference, an isolated package cache so no stale copy
/// is used, no repository build settings) and run a server and a client process that exchange messages through both
/// Shmipc.Channels and Shmipc.Reactive.
/// </summary>
[Collection(PackagingCollection.Name)]
public sealed partial class PackageConsumerTests : IDisposable
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);
    private static readonly string[] Libraries = ["Shmipc.Channels", "Shmipc.Reactive"];

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("shmipc-packaging-");

    public void Dispose()
    {
        try
        {
            _temp.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Packages_BuiltIntoAFreshConsoleProject_RoundTripBetweenTwoProcesses()
    {
        var packages = await GetPackagesAsync();
        var version = PackedVersion(packages);
        foreach (var id in Libraries)
        {
            AssertPackageContents(packages, id, version);
        }

        // The consumer lives under the temp folder: no Directory.Build.props/Directory.Packages.props of the
        // repository above it (empty ones stop MSBuild's upward search anyway), and its own nuget.config that adds the
        // package folder to the machine's sources (which provide the dependencies).
        var consumer = Directory.CreateDirectory(Path.Combine(_temp.FullName, "consumer")).FullName;
        var template = Path.Combine(VectorFiles.RepositoryRoot, "tests", "PackageConsumer");
        File.Copy(Path.Combine(template, "PackageConsumer.csproj"), Path.Combine(consumer, "PackageConsumer.csproj"));
        File.Copy(Path.Combine(template, "Program.cs"), Path.Combine(consumer, "Program.cs"));
        File.WriteAllText(Path.Combine(consumer, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(consumer, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(consumer, "Directory.Packages.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="shmipc-under-test" value="{packages}" />
              </packageSources>
            </configuration>
            """);

        var cache = Path.Combine(_temp.FullName, "package-cache");
        await DotNetCommand.RunAsync(consumer, BuildTimeout,
            "build", "-c", "Release", "--disable-build-servers", $"-p:ShmipcVersion={version}", $"-p:RestorePackagesPath={cache}");

        // What was restored is the package under test, from the package folder, and nothing of the repository.
        foreach (var id in Libraries)
        {
            Assert.True(File.Exists(Path.Combine(cache, id.ToLowerInvariant(), version, $"{id.ToLowerInvariant()}.{version}.nupkg")), $"{id} {version} was not restored into {cache}");
        }

        var dll = Path.Combine(consumer, "bin", "Release", "net10.0", "PackageConsumer.dll");
        using var socket = new TempSocketPath();
        using var server = DotNetCommand.Start(consumer, [dll, "server", socket.Path], markerLine: "READY");
        Assert.True(await server.WaitForMarkerAsync(RunTimeout), $"the consumer's server did not start:\n{server.Output}");
        using var client = DotNetCommand.Start(consumer, [dll, "client", socket.Path]);

        var clientExit = await client.WaitForExitAsync(RunTimeout);
        var serverExit = await server.WaitForExitAsync(RunTimeout);
        Assert.True(clientExit == 0, $"client exited with {clientExit}:\n{client.Output}\nserver:\n{server.Output}");
        Assert.True(serverExit == 0, $"server exited with {serverExit}:\n{server.Output}");
        Assert.Contains("CLIENT OK", client.Output, StringComparison.Ordinal);
        Assert.Contains("SERVER OK", server.Output, StringComparison.Ordinal);
    }

    /// <summary>The folder .ci/run packed into, or a fresh pack of the solution with output paths of its own.</summary>
    private async Task<string> GetPackagesAsync()
    {
        var given = Environment.GetEnvironmentVariable("SHMIPC_TEST_PACKAGES");
        if (!string.IsNullOrEmpty(given))
        {
            Assert.True(Directory.Exists(given), $"SHMIPC_TEST_PACKAGES names a missing folder: {given}");
            return Path.GetFullPath(given);
        }

        // --artifacts-path keeps this Release build's bin/obj away from the repository's, so it cannot race or
        // disturb the Debug build the tests run from.
        var packages = Path.Combine(_temp.FullName, "packages");
        await DotNetCommand.RunAsync(VectorFiles.RepositoryRoot, PackTimeout,
            "pack", Path.Combine(VectorFiles.RepositoryRoot, "Shmipc.Channels.sln"), "-c", "Release", "--disable-build-servers",
            "-o", packages, "--artifacts-path", Path.Combine(_temp.FullName, "artifacts"));
        return packages;
    }

    private static string PackedVersion(string packages)
    {
        var versions = Directory.GetFiles(packages, "Shmipc.Channels.*.nupkg")
            .Select(f => PackageFileName().Match(Path.GetFileName(f)))
            .Where(m => m.Success)
            .Select(m => m.Groups["version"].Value)
            .ToList();
        Assert.True(versions.Count == 1, $"expected one Shmipc.Channels package in {packages}, found: {string.Join(", ", versions)}");
        return versions[0];
    }

    private static void AssertPackageContents(string packages, string id, string version)
    {
        var nupkg = Path.Combine(packages, $"{id}.{version}.nupkg");
        Assert.True(File.Exists(nupkg), $"{nupkg} is missing");
        Assert.True(File.Exists(Path.Combine(packages, $"{id}.{version}.snupkg")), $"{id}: no symbol package (.snupkg)");

        using var zip = ZipFile.OpenRead(nupkg);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains($"lib/net10.0/{id}.dll", entries);
        Assert.Contains($"lib/net10.0/{id}.xml", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("LICENSE", entries);

        using var reader = new StreamReader(zip.GetEntry($"{id}.nuspec")!.Open());
        var nuspec = reader.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", nuspec, StringComparison.Ordinal);
        Assert.Contains("<readme>README.md</readme>", nuspec, StringComparison.Ordinal);
        Assert.Contains("<projectUrl>https://github.com/", nuspec, StringComparison.Ordinal);
        Assert.Contains("<repository type=\"git\" url=\"https://github.com/", nuspec, StringComparison.Ordinal);
        Assert.Matches("<description>.{20,}</description>", nuspec);
        Assert.Matches("<tags>.*shmipc.*</tags>", nuspec);

        // The package README is the package's own short one, not the repository's.
        using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
        Assert.StartsWith($"# {id}", readme.ReadToEnd(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^Shmipc\.Channels\.(?<version>\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?)\.nupkg$")]
    private static partial Regex PackageFileName();
}
