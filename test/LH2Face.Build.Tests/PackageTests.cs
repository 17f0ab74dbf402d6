using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace LH2Face.Build.Tests;

/// <summary>
/// The NuGet packages as a user gets them: packed from the solution with a unique pre-release version into a temporary
/// feed, checked for what a package must carry, and consumed by a fresh console app whose Program.cs is the README's
/// "Use it from your app" program, built and run with nothing but a PackageReference.
/// </summary>
[TestClass]
public sealed class PackageTests
{
    private static string feed = "";
    private static string version = "";

    [ClassInitialize]
    public static void Pack(TestContext _)
    {
        feed = Directory.CreateTempSubdirectory("lh2face-feed-").FullName;
        version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        var (code, output) = DotNet.Run($"pack Microsoft.ML.LH2Face.sln -c Release -o \"{feed}\" -p:VersionSuffix={version["0.1.0-".Length..]} -nologo", DotNet.RepoRoot(), 600);
        Assert.AreEqual(0, code, output);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        Directory.Delete(feed, recursive: true);
        // The test's versions in the NuGet cache: nobody else uses them.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "microsoft.ml.lh2face", "microsoft.ml.lh2face.data" })
        {
            var dir = Path.Combine(cache, id, version);
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    private static (ZipArchive Zip, XElement Metadata) Open(string id)
    {
        var zip = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{version}.nupkg"));
        using var nuspec = zip.GetEntry($"{id}.nuspec")!.Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        return (zip, metadata);
    }

    private static string Value(XElement metadata, string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;

    [TestMethod]
    [DataRow("Microsoft.ML.LH2Face")]
    [DataRow("Microsoft.ML.LH2Face.Data")]
    public void Package_CarriesLicenceReadmeTagsDocsAndVersion(string id)
    {
        var (zip, metadata) = Open(id);
        using (zip)
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.AreEqual(version, Value(metadata, "version"));
            Assert.AreEqual("MIT", Value(metadata, "license"));
            Assert.AreEqual("README.md", Value(metadata, "readme"));
            StringAssert.Contains(Value(metadata, "tags"), "face-recognition");
            foreach (var file in new[] { "LICENSE", "README.md", $"lib/net10.0/{id}.dll", $"lib/net10.0/{id}.xml" })
                Assert.Contains(file, entries, $"{id} lacks {file}");
            using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
            StringAssert.StartsWith(readme.ReadToEnd(), $"# {id}\n");
        }
    }

    [TestMethod]
    public void LibraryPackage_HasBuildTransitiveTargetsAndItsDependencies()
    {
        var (zip, metadata) = Open("Microsoft.ML.LH2Face");
        using (zip)
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            foreach (var file in new[] { "buildTransitive/Microsoft.ML.LH2Face.targets", "buildTransitive/LibTorchCompat.targets",
                         "buildTransitive/LibTorchCompat/ElfVersionNeed.cs", "buildTransitive/LibTorchCompat/WeakenVersionNeedTask.cs" })
                Assert.Contains(file, entries);
            var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
                .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
            Assert.AreEqual(version, dependencies["Microsoft.ML.LH2Face.Data"]);
            Assert.AreEqual("0.107.0", dependencies["TorchSharp-cpu"]);
            Assert.IsFalse(dependencies.ContainsKey("MSTest"), "no test packages");
        }
    }

    [TestMethod]
    public void ReadmeProgram_BuildsAgainstThePackagesAndRuns()
    {
        var readme = File.ReadAllText(Path.Combine(DotNet.RepoRoot(), "README.md"));
        var block = Regex.Match(readme, @"<!-- app-program:begin -->\s*```csharp\n(?<code>.*?)```\s*<!-- app-program:end -->", RegexOptions.Singleline);
        Assert.IsTrue(block.Success, "README has the app program between its markers");
        var app = Directory.CreateTempSubdirectory("lh2face-app-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(app, "Program.cs"), block.Groups["code"].Value);
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Microsoft.ML.LH2Face" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="lh2face-test-feed" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            var (code, output) = DotNet.Run("run -c Release -nologo", app, 900);
            Assert.AreEqual(0, code, output);
            StringAssert.Matches(output, new Regex(@"32 px model: embedding of 16 values, quality \d+\.\d\d"), output);
            Assert.IsTrue(File.Exists(Path.Combine(app, "model.zip")));
            Assert.IsFalse(File.Exists(Path.Combine(app, "LH2Face.LibTorchCompat.g.cs")), "the build step's source goes to obj/, not the project folder");
            Assert.IsEmpty(Directory.GetFiles(app, "*.onnx", SearchOption.TopDirectoryOnly));
            // The program cleans up after itself, so it runs again (and in CI twice) without a leftover folder.
            (code, output) = DotNet.Run("run -c Release -nologo --no-build", app, 300);
            Assert.AreEqual(0, code, "second run: " + output);
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }
}
