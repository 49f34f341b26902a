namespace Shmipc.Reactive.Tests.TestSupport;

/// <summary>A unique socket path in a private temp folder, removed on dispose.</summary>
public sealed class TempSocketPath : IDisposable
{
    public TempSocketPath()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("shmipc-rx-test-").FullName;
        Path = System.IO.Path.Combine(Directory, "s.sock");
    }

    public string Directory { get; }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
