using System.Reflection;

namespace LH2Face.Build.Tests;

/// <summary>Read/MarkWeak on a temp copy of TorchSharp 0.107.0's real libLibTorchSharp.so.</summary>
[TestClass]
public sealed class ElfVersionNeedRealLibraryTests
{
    private const string Version = "GLIBCXX_3.4.32";

    // readelf -V: .gnu.version_r at 0x3f8f0; the GLIBCXX_3.4.32 Vernaux at +0x140; vna_flags at +4.
    private const long FlagsOffset = 0x3f8f0 + 0x140 + 4;

    [TestMethod]
    public void Read_RealLibrary_ListsGlibcxx3432NotWeak()
    {
        using var dir = new TempDirectory();
        string path = CopyRealLibrary(dir);

        IReadOnlyList<ElfVersionNeed.VersionNeed> needs = ElfVersionNeed.Read(path);

        Assert.HasCount(28, needs);
        Assert.AreEqual(20, needs.Count(n => n.Library == "libstdc++.so.6"));
        ElfVersionNeed.VersionNeed need = needs.Single(n => n.Version == Version);
        Assert.AreEqual("libstdc++.so.6", need.Library);
        Assert.AreEqual((ushort)0, need.Flags);
        Assert.AreEqual((ushort)18, need.Other);
        Assert.AreEqual(0x0297f842u, need.Hash);
        Assert.AreEqual(FlagsOffset, need.FlagsOffset);
        Assert.AreEqual("ld-linux-x86-64.so.2", needs[0].Library);
        Assert.AreEqual("GLIBC_2.3", needs[0].Version);
    }

    [TestMethod]
    public void MarkWeak_RealLibrary_ChangesOnlyTheFlagBytesAndIsIdempotent()
    {
        using var dir = new TempDirectory();
        string path = CopyRealLibrary(dir);
        byte[] original = File.ReadAllBytes(path);
        DateTime lastWrite = File.GetLastWriteTimeUtc(path);

        Assert.AreEqual(ElfVersionNeed.PatchResult.Patched, ElfVersionNeed.MarkWeak(path, Version));

        byte[] patched = File.ReadAllBytes(path);
        Assert.HasCount(original.Length, patched);
        int[] differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        CollectionAssert.AreEqual(new[] { (int)FlagsOffset }, differing);
        Assert.AreEqual((byte)0x02, patched[FlagsOffset]);
        Assert.AreEqual((byte)0x00, patched[FlagsOffset + 1]);
        Assert.AreEqual((ushort)0x2, ElfVersionNeed.Read(path).Single(n => n.Version == Version).Flags);
        Assert.AreEqual(lastWrite, File.GetLastWriteTimeUtc(path));
        Assert.HasCount(1, Directory.GetFiles(dir.Path));

        Assert.AreEqual(ElfVersionNeed.PatchResult.AlreadyWeak, ElfVersionNeed.MarkWeak(path, Version));

        CollectionAssert.AreEqual(patched, File.ReadAllBytes(path));
        Assert.AreEqual(ElfVersionNeed.PatchResult.NotNeeded, ElfVersionNeed.MarkWeak(path, "GLIBCXX_3.4.99"));
        CollectionAssert.AreEqual(patched, File.ReadAllBytes(path));
    }

    [TestMethod]
    public void MarkWeak_SymbolicLinkToCache_ReplacesLinkAndLeavesTarget()
    {
        using var dir = new TempDirectory();
        string cache = CopyRealLibrary(dir);
        byte[] original = File.ReadAllBytes(cache);
        string link = dir.File("linked.so");
        File.CreateSymbolicLink(link, cache);

        Assert.AreEqual(ElfVersionNeed.PatchResult.Patched, ElfVersionNeed.MarkWeak(link, Version));

        CollectionAssert.AreEqual(original, File.ReadAllBytes(cache));
        Assert.IsNull(new FileInfo(link).LinkTarget);
        Assert.AreEqual((ushort)0x2, ElfVersionNeed.Read(link).Single(n => n.Version == Version).Flags);
    }

    private static string CopyRealLibrary(TempDirectory dir)
    {
        string? package = typeof(ElfVersionNeedRealLibraryTests).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "TorchSharpPackageDir")?.Value;
        Assert.IsFalse(string.IsNullOrEmpty(package), "TorchSharpPackageDir metadata is missing: is the TorchSharp package restored?");
        string source = Path.Combine(package, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.IsTrue(File.Exists(source), source + " not found");
        string copy = dir.File("libLibTorchSharp.so");
        File.Copy(source, copy);
        return copy;
    }
}
