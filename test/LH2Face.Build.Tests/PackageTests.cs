using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace LH2Face.Build.Tests;

/// <summary>
/// The NuGet packages as a user gets them: packed from the solution with a unique pre-release version into a temporary
/// feed (<see cref="PackedFeed"/>), checked for what a package must carry, and consumed by a fresh console app whose Program.cs is the README's
/// "Use it from your app" program, built and run with nothing but a PackageReference.
/// </summary>
[TestClass]
public sealed class PackageTests
{
    private static (ZipArchive Zip, XElement Metadata) Open(string id)
    {
        var zip = ZipFile.OpenRead(Path.Combine(PackedFeed.Folder, $"{id}.{PackedFeed.Version}.nupkg"));
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
            Assert.AreEqual(PackedFeed.Version, Value(metadata, "version"));
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
            Assert.AreEqual(PackedFeed.Version, dependencies["Microsoft.ML.LH2Face.Data"]);
            Assert.AreEqual("0.107.0", dependencies["TorchSharp-cpu"]);
            Assert.IsFalse(dependencies.ContainsKey("MSTest"), "no test packages");
        }
    }

    /// <summary>A fresh console app in a temp folder: the README program, a PackageReference and a nuget.config, nothing else.</summary>
    private static string CreateReadmeApp()
    {
        var readme = File.ReadAllText(Path.Combine(DotNet.RepoRoot(), "README.md"));
        var block = Regex.Match(readme, @"<!-- app-program:begin -->\s*```csharp\n(?<code>.*?)```\s*<!-- app-program:end -->", RegexOptions.Singleline);
        Assert.IsTrue(block.Success, "README has the app program between its markers");
        var app = Directory.CreateTempSubdirectory("lh2face-app-").FullName;
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
                <PackageReference Include="Microsoft.ML.LH2Face" Version="{PackedFeed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="lh2face-test-feed" value="{PackedFeed.Folder}" />
              </packageSources>
            </configuration>
            """);
        return app;
    }

    private static readonly Regex ProgramLine = new(@"32 px model: embedding of 16 values, quality \d+\.\d\d");

    /// <summary>The program's second line: the model.zip rebuilt as an LH2FaceTransformer in this fresh process (24 images, batch 8, 1 epoch).</summary>
    private static readonly Regex TypedLine = new(@"typed reload: 32 px, 3 steps, column Embedding");

    [TestMethod]
    public void ReadmeProgram_BuildsAgainstThePackagesAndRuns()
    {
        var app = CreateReadmeApp();
        try
        {
            var (code, output) = DotNet.Run("run -c Release -nologo", app, 900);
            Assert.AreEqual(0, code, output);
            StringAssert.Matches(output, ProgramLine, output);
            StringAssert.Matches(output, TypedLine, output);
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

    /// <summary>
    /// The same app built WITHOUT the package's libstdc++ step (-p:LH2FaceWeakenGlibcxx=false), as a notebook or a
    /// script gets it: the output keeps the original libLibTorchSharp.so, and the library prepares and loads a weakened
    /// copy in its cache folder at the first Fit.
    /// </summary>
    [TestMethod]
    public void ReadmeProgram_WithoutTheBuildStep_TrainsThroughTheRunTimeLoader()
    {
        var app = CreateReadmeApp();
        var cache = Path.Combine(app, "native-cache");
        try
        {
            var (code, output) = DotNet.Run("build -c Release -nologo -p:LH2FaceWeakenGlibcxx=false", app, 900);
            Assert.AreEqual(0, code, output);
            var library = Path.Combine(app, "bin", "Release", "net10.0", "linux-x64", "libLibTorchSharp.so");
            bool hostLacksVersion = !ElfVersionNeed.HostHasGlibcxx("GLIBCXX_3.4.32");
            if (hostLacksVersion)
                Assert.IsTrue(ElfVersionNeed.Read(library).Any(n => n.Version == "GLIBCXX_3.4.32" && !n.IsWeak), "the build step did not run: the output keeps the strong requirement");

            (code, output) = DotNet.Run("run -c Release -nologo --no-build", app, 600, new Dictionary<string, string?> { ["LH2FACE_NATIVE_CACHE"] = cache });
            Assert.AreEqual(0, code, output);
            StringAssert.Matches(output, ProgramLine, output);
            StringAssert.Matches(output, TypedLine, output);
            if (!hostLacksVersion)
                Assert.Inconclusive("This machine's libstdc++ has GLIBCXX_3.4.32: the program ran, but no weakened copy was needed.");
            var copies = Directory.GetFiles(cache, "libLibTorchSharp.so", SearchOption.AllDirectories);
            Assert.HasCount(1, copies, "one weakened copy in the cache folder");
            Assert.IsTrue(ElfVersionNeed.Read(copies[0]).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
            Assert.IsEmpty(Directory.GetFiles(cache, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }
}
