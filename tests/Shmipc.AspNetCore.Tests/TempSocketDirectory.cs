namespace Shmipc.AspNetCore.Tests;

/// <summary>A private temp folder for socket files, removed on dispose.</summary>
public sealed class TempSocketDirectory : IDisposable
{
    public TempSocketDirectory() => Directory = System.IO.Directory.CreateTempSubdirectory("shmipc-aspnet-").FullName;

    public string Directory { get; }

    public string PathOf(string name) => System.IO.Path.Combine(Directory, name);

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
