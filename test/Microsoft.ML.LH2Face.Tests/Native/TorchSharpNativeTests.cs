using System.Reflection;
using LH2Face.Build;
using Microsoft.ML.LH2Face.Native;

namespace Microsoft.ML.LH2Face.Tests.Native;

/// <summary>
/// The run-time preparation of a loadable libLibTorchSharp.so (notebooks and apps without the build step), on the real
/// library of the TorchSharp package. Loading the copy without a build step is shown end to end by the build tests
/// (a console app built with -p:LH2FaceWeakenGlibcxx=false, and the notebooks).
/// </summary>
[TestClass]
public sealed class TorchSharpNativeTests
{
    private static string PackageLibrary()
    {
        var torch = typeof(TorchSharp.torch).Assembly;
        var version = torch.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", version, "runtimes", "linux-x64", "native", TorchSharpNative.LibraryFile);
        if (!File.Exists(path))
            Assert.Inconclusive($"{path} is not restored here");
        return path;
    }

    private static string NewCache() => Directory.CreateTempSubdirectory("lh2face-native-").FullName;

    [TestMethod]
    public void PrepareWeakCopy_RealLibrary_MarksOnlyTheOneRequirementWeakAndKeepsEveryOtherByte()
    {
        var original = PackageLibrary();
        var cache = NewCache();
        try
        {
            Assert.IsTrue(TorchSharpNative.NeedsWeakCopy(original), "the package's library has the strong requirement");
            var copy = TorchSharpNative.PrepareWeakCopy(original, cache);
            Assert.IsFalse(TorchSharpNative.NeedsWeakCopy(copy));
            StringAssert.StartsWith(copy, cache);
            var before = ElfVersionNeed.Read(original);
            var after = ElfVersionNeed.Read(copy);
            Assert.HasCount(before.Count, after);
            for (int i = 0; i < before.Count; i++)
            {
                Assert.AreEqual(before[i].Version, after[i].Version);
                var expected = before[i].Version == TorchSharpNative.RequiredVersion ? (ushort)(before[i].Flags | ElfVersionNeed.VerFlagWeak) : before[i].Flags;
                Assert.AreEqual(expected, after[i].Flags, before[i].Version);
            }
            // Only the flags field (2 bytes) of that one entry differs.
            var a = File.ReadAllBytes(original);
            var b = File.ReadAllBytes(copy);
            Assert.HasCount(a.Length, b);
            var differing = Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToList();
            Assert.IsTrue(differing.Count is 1 or 2 && differing[^1] - differing[0] <= 1, $"{differing.Count} bytes differ");
            Assert.IsEmpty(Directory.GetFiles(cache, "*.tmp", SearchOption.AllDirectories), "no temporary file left behind");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    public void PrepareWeakCopy_SecondCall_ReusesTheCachedFile()
    {
        var original = PackageLibrary();
        var cache = NewCache();
        try
        {
            var copy = TorchSharpNative.PrepareWeakCopy(original, cache);
            var written = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(copy, written);
            Assert.AreEqual(copy, TorchSharpNative.PrepareWeakCopy(original, cache));
            Assert.AreEqual(written, File.GetLastWriteTimeUtc(copy), "a sound cached copy is not rewritten");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("truncated")]
    [DataRow("one byte changed")]
    [DataRow("the unweakened original")]
    public void PrepareWeakCopy_CachedFileNotExactlyTheWeakenedCopy_IsReplaced(string damage)
    {
        var original = PackageLibrary();
        var cache = NewCache();
        try
        {
            var copy = TorchSharpNative.PrepareWeakCopy(original, cache);
            var sound = File.ReadAllBytes(copy);
            var bad = damage switch
            {
                "truncated" => sound[..1000],
                "one byte changed" => sound.Select((b, i) => i == sound.Length / 2 ? (byte)(b ^ 0x5a) : b).ToArray(),
                _ => File.ReadAllBytes(original),
            };
            File.WriteAllBytes(copy, bad);
            Assert.AreEqual(copy, TorchSharpNative.PrepareWeakCopy(original, cache));
            CollectionAssert.AreEqual(sound, File.ReadAllBytes(copy), "the cached file is the exact weakened copy again");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    public void PrepareWeakCopy_ManyAtOnce_AllGetTheSameSoundFileAndNoTemporaryIsLeft()
    {
        var original = PackageLibrary();
        var cache = NewCache();
        try
        {
            using var start = new Barrier(8);
            var tasks = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                return TorchSharpNative.PrepareWeakCopy(original, cache);
            }, TaskCreationOptions.LongRunning)).ToArray();
            Task.WaitAll(tasks);
            var paths = tasks.Select(t => t.Result).ToList();
            Assert.HasCount(1, paths.Distinct());
            Assert.IsFalse(TorchSharpNative.NeedsWeakCopy(paths[0]));
            Assert.AreEqual(new FileInfo(original).Length, new FileInfo(paths[0]).Length);
            Assert.HasCount(1, Directory.GetFiles(cache, "*", SearchOption.AllDirectories), "one file, no temporaries");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    public void PrepareWeakCopy_StaleTemporaryOfAKilledProcess_IsRemoved()
    {
        var original = PackageLibrary();
        var cache = NewCache();
        try
        {
            var copy = TorchSharpNative.PrepareWeakCopy(original, cache);
            var folder = Path.GetDirectoryName(copy)!;
            var stale = Path.Combine(folder, ".libLibTorchSharp.so.1.dead.tmp");
            var fresh = Path.Combine(folder, ".libLibTorchSharp.so.2.busy.tmp");
            File.WriteAllText(stale, "left by a killed process");
            File.WriteAllText(fresh, "another process is writing this");
            File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));
            File.Delete(copy); // so the next call prepares again
            TorchSharpNative.PrepareWeakCopy(original, cache);
            Assert.IsFalse(File.Exists(stale));
            Assert.IsTrue(File.Exists(fresh), "a recent temporary may belong to a running process");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    public void PrepareWeakCopy_NotAnElfFile_IsAnInvalidDataExceptionNamingIt()
    {
        var cache = NewCache();
        try
        {
            var bogus = Path.Combine(cache, "libLibTorchSharp.so");
            File.WriteAllText(bogus, "not a shared library");
            var error = Assert.ThrowsExactly<InvalidDataException>(() => TorchSharpNative.PrepareWeakCopy(bogus, Path.Combine(cache, "out")));
            StringAssert.Contains(error.Message, bogus);
            Assert.IsFalse(Directory.Exists(Path.Combine(cache, "out")), "nothing written");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    public void FindOriginal_InThisTestRun_IsTheBuildOutputCopyWhichTheBuildStepAlreadyWeakened()
    {
        // The test project is built with the build step (which weakens the output copy where libstdc++ lacks the version), so nothing is needed here.
        var found = TorchSharpNative.FindOriginal(typeof(TorchSharp.torch).Assembly);
        Assert.IsNotNull(found);
        StringAssert.StartsWith(found, Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location)!);
        if (!ElfVersionNeed.HostHasGlibcxx(TorchSharpNative.RequiredVersion))
            Assert.IsFalse(TorchSharpNative.NeedsWeakCopy(found));
        var result = TorchSharpNative.EnsureLoadable(null);
        Assert.AreEqual(TorchSharpNativeAction.NotNeeded, result.Action);
        Assert.IsNull(result.Message, "nothing to log when nothing was done");
    }

    [TestMethod]
    public void FindLibTorchDirectory_SeveralVersionsRestored_TakesExactlyTorchSharpsAndNoOther()
    {
        var root = NewCache();
        try
        {
            var original = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            Directory.CreateDirectory(Path.GetDirectoryName(original)!);
            File.WriteAllText(original, "");
            foreach (var version in new[] { "2.9.0", "2.10.0", "9.9.9" })
            {
                var native = Path.Combine(root, "libtorch-cpu-linux-x64", version, "runtimes", "linux-x64", "native");
                Directory.CreateDirectory(native);
                File.WriteAllText(Path.Combine(native, "libtorch.so"), "");
            }
            var empty = Path.Combine(root, "no-nuget-here");
            StringAssert.Contains(TorchSharpNative.FindLibTorchDirectory(original, "2.10.0", empty), Path.Combine("libtorch-cpu-linux-x64", "2.10.0", "runtimes"));
            Assert.IsNull(TorchSharpNative.FindLibTorchDirectory(original, "2.11.0", empty), "a libtorch of another version is never taken");
            StringAssert.Contains(TorchSharpNative.FindLibTorchDirectory(original, null, empty), Path.Combine("libtorch-cpu-linux-x64", "9.9.9"), "unknown wanted version: the highest");
            // Beside the original (an app's output folder) wins.
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(original)!, "libtorch.so"), "");
            Assert.AreEqual(Path.GetDirectoryName(original), TorchSharpNative.FindLibTorchDirectory(original, "2.10.0", empty));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void FindLibTorchDirectory_ForThePackageLibrary_IsTheLibTorchPackageOfTorchSharpsVersion()
    {
        var dir = TorchSharpNative.FindLibTorchDirectory(PackageLibrary(), typeof(TorchSharp.torch).Assembly);
        Assert.IsNotNull(dir);
        Assert.IsTrue(File.Exists(Path.Combine(dir, "libtorch.so")));
        StringAssert.Contains(dir, Path.Combine("libtorch-cpu-linux-x64", "2.10.0", "runtimes"));
    }

    [TestMethod]
    public void CacheRoot_HonoursTheVariableThenXdgThenHome()
    {
        var saved = (Environment.GetEnvironmentVariable(TorchSharpNative.CacheFolderVariable), Environment.GetEnvironmentVariable("XDG_CACHE_HOME"));
        try
        {
            Environment.SetEnvironmentVariable(TorchSharpNative.CacheFolderVariable, "/tmp/a-cache");
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/tmp/xdg");
            Assert.AreEqual("/tmp/a-cache", TorchSharpNative.CacheRoot());
            Environment.SetEnvironmentVariable(TorchSharpNative.CacheFolderVariable, null);
            Assert.AreEqual("/tmp/xdg/Microsoft.ML.LH2Face", TorchSharpNative.CacheRoot());
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", null);
            Assert.AreEqual(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "Microsoft.ML.LH2Face"), TorchSharpNative.CacheRoot());
        }
        finally
        {
            Environment.SetEnvironmentVariable(TorchSharpNative.CacheFolderVariable, saved.Item1);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved.Item2);
        }
    }
}
