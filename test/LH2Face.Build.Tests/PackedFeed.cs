namespace LH2Face.Build.Tests;

/// <summary>
/// The two libraries packed once per test run with a unique pre-release version into a temporary feed, shared by
/// the package, app and notebook tests; removed (with the version's NuGet cache folders) after the run.
/// </summary>
[TestClass]
public static class PackedFeed
{
    private static readonly Lazy<(string Folder, string Version)> Packed = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The feed folder (absolute).</summary>
    public static string Folder => Packed.Value.Folder;

    /// <summary>The packages' version, e.g. 0.1.0-test.20261202201500123.</summary>
    public static string Version => Packed.Value.Version;

    private static (string, string) Pack()
    {
        var folder = Directory.CreateTempSubdirectory("lh2face-feed-").FullName;
        var version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        var (code, output) = DotNet.Run($"pack Microsoft.ML.LH2Face.sln -c Release -o \"{folder}\" -p:VersionSuffix={version["0.1.0-".Length..]} -nologo", DotNet.RepoRoot(), 600);
        if (code != 0)
            Directory.Delete(folder, recursive: true); // the cleanup below only runs for a feed that was packed
        Assert.AreEqual(0, code, output);
        return (folder, version);
    }

    [AssemblyCleanup]
    public static void Cleanup()
    {
        if (!Packed.IsValueCreated)
            return;
        Directory.Delete(Folder, recursive: true);
        // The test's versions in the NuGet cache: nobody else uses them.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "microsoft.ml.lh2face", "microsoft.ml.lh2face.data" })
        {
            var dir = Path.Combine(cache, id, Version);
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
