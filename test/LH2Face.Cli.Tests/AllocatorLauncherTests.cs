using System.Diagnostics;

namespace LH2Face.Cli.Tests;

/// <summary>
/// The tool replaces itself under tcmalloc where it is installed (LH2FACE_ALLOCATOR): the choice, and the process as
/// started from a shell, whose training log names the allocator that served it.
/// </summary>
[TestClass]
public sealed class AllocatorLauncherTests
{
    private const string Tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
    private string root = "";

    [TestInitialize]
    public void CreateFolder() => root = Directory.CreateTempSubdirectory("lh2face-cli-alloc-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(root, recursive: true);

    private static string? Choose(string? setting, string? ldPreload = null, string? marker = null, bool isLinux = true, params string[] existing)
        => AllocatorLauncher.Choose(setting, ldPreload, marker, isLinux, existing.Contains);

    [TestMethod]
    public void Choose_Auto_TakesTheFirstInstalledTcmalloc()
    {
        Assert.AreEqual(Tcmalloc, Choose(null, existing: Tcmalloc));
        Assert.AreEqual(Tcmalloc, Choose("", existing: Tcmalloc));
        Assert.AreEqual("/usr/lib64/libtcmalloc_minimal.so.4", Choose(" AUTO ", existing: "/usr/lib64/libtcmalloc_minimal.so.4"));
        Assert.IsNull(Choose("auto"), "no tcmalloc installed: glibc");
    }

    [TestMethod]
    public void Choose_Glibc_NotLinux_Replaced_OrAlreadyPreloaded_LeavesTheProcessAlone()
    {
        Assert.IsNull(Choose("glibc", existing: Tcmalloc));
        Assert.IsNull(Choose("auto", isLinux: false, existing: Tcmalloc));
        Assert.IsNull(Choose("auto", marker: Tcmalloc, existing: Tcmalloc), "the replaced process never replaces itself again");
        Assert.IsNull(Choose("auto", ldPreload: "/opt/lib/libjemalloc.so.2", existing: Tcmalloc));
        Assert.IsNull(Choose("auto", ldPreload: "/lib/libfoo.so:" + Tcmalloc, existing: Tcmalloc));
        Assert.AreEqual(Tcmalloc, Choose("auto", ldPreload: "/lib/libfoo.so", existing: Tcmalloc), "another preloaded library is not an allocator");
    }

    [TestMethod]
    public void Choose_AnExistingAbsolutePath_IsPreloaded()
        => Assert.AreEqual("/opt/mimalloc/libmimalloc.so", Choose("/opt/mimalloc/libmimalloc.so", existing: "/opt/mimalloc/libmimalloc.so"));

    [TestMethod]
    [DataRow("tcmalloc")]
    [DataRow("libtcmalloc_minimal.so.4")]
    [DataRow("/nowhere/libtcmalloc.so")]
    public void Choose_AnythingElse_FailsNamingTheVariable(string setting)
    {
        var e = Assert.ThrowsExactly<CliException>(() => Choose(setting, existing: Tcmalloc));
        StringAssert.Contains(e.Message, $"LH2FACE_ALLOCATOR is '{setting}': use auto");
        StringAssert.Contains(e.Message, "glibc");
    }

    [TestMethod]
    public void Arguments_KeepEmptyArgumentsAndSpaces()
    {
        CollectionAssert.AreEqual(new[] { "dotnet", "lh2face.dll", "train", "--log", "a b.log", "" }, AllocatorLauncher.Arguments("dotnet\0lh2face.dll\0train\0--log\0a b.log\0\0"));
        CollectionAssert.AreEqual(new[] { "lh2face", "", "x" }, AllocatorLauncher.Arguments("lh2face\0\0x\0"));
    }

    [TestMethod]
    public void Replacements_AreTheNamesTheLibraryRecognises()
    {
        // GlibcHeap is internal to the library; its list is read by reflection rather than opening the library's internals.
        var field = typeof(Microsoft.ML.LH2Face.LH2FaceTrainer).Assembly.GetType("Microsoft.ML.LH2Face.Native.GlibcHeap", throwOnError: true)!
            .GetField("ReplacementAllocators", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static);
        Assert.IsNotNull(field, "GlibcHeap.ReplacementAllocators was renamed: update this test and AllocatorLauncher.Replacements together");
        CollectionAssert.AreEqual((string[])field.GetValue(null)!, AllocatorLauncher.Replacements.ToArray());
        Assert.IsNull(Choose("auto", ldPreload: "/usr/lib/libmimalloc.so.2", existing: Tcmalloc), "every name the library recognises counts as preloaded");
    }

    [TestMethod]
    public void Preload_PutsTheAllocatorFirstAndKeepsTheRest()
    {
        Assert.AreEqual(Tcmalloc, AllocatorLauncher.Preload(Tcmalloc, null));
        Assert.AreEqual(Tcmalloc, AllocatorLauncher.Preload(Tcmalloc, " "));
        Assert.AreEqual(Tcmalloc + ":/lib/libfoo.so", AllocatorLauncher.Preload(Tcmalloc, "/lib/libfoo.so"));
    }

    /// <summary>
    /// The tool started as a user starts it: by default its training log says tcmalloc served malloc where this machine
    /// has it and that glibc keeps freed blocks where it does not; with LH2FACE_ALLOCATOR=glibc always the latter; either
    /// way the freed memory goes back through that allocator after training; a bad value is a usage error (exit 2)
    /// naming the variable, before anything is written.
    /// </summary>
    [TestMethod]
    public void Tool_AsStarted_RunsUnderTheChosenAllocator()
    {
        var faces = Path.Combine(root, "faces");
        FaceFolder.Write(faces, identities: 4, samples: 4, size: 24);
        string? installed = AllocatorLauncher.TcmallocCandidates.FirstOrDefault(File.Exists);
        const string Glibc = "C heap keeps freed blocks (mmap off, trimming off: Options.NativeHeap = KeepFreed).";
        const string ReleasedByGlibc = "Freed native memory handed back to the system after training (glibc's malloc_trim";

        string tcmalloc = installed is null ? "" : Path.GetFileName(File.ResolveLinkTarget(installed, true)?.FullName ?? installed);
        string auto = Train("auto", null, out _)!;
        StringAssert.Contains(auto, installed is null ? Glibc : $"C heap left unchanged: {tcmalloc} serves malloc");
        // After the last step the freed activations go back to the system, through the allocator that kept them.
        StringAssert.Contains(auto, installed is null ? ReleasedByGlibc : $"Freed native memory handed back to the system after training ({tcmalloc}'s MallocExtension_ReleaseFreeMemory): resident ");
        string glibc = Train("glibc", null, out _)!;
        StringAssert.Contains(glibc, Glibc);
        StringAssert.Contains(glibc, ReleasedByGlibc);

        Assert.IsNull(Train("tcmalloc", "bad.zip", out var failure));
        Assert.AreEqual(2, failure.ExitCode);
        StringAssert.Contains(failure.Error, "LH2FACE_ALLOCATOR is 'tcmalloc': use auto");
        Assert.IsFalse(File.Exists(Path.Combine(root, "bad.zip")));

        string? Train(string allocator, string? model, out (int ExitCode, string Error) result)
        {
            string name = model ?? allocator + ".zip", log = Path.Combine(root, allocator + ".log");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "lh2face.dll"), "train", "--data", faces, "--out", Path.Combine(root, name),
                         "--input-size", "16", "--embedding-size", "8", "--epochs", "1", "--batch-size", "8", "--device", "Cpu", "--log", log })
                start.ArgumentList.Add(arg);
            start.Environment["OMP_NUM_THREADS"] = "1";
            start.Environment["LH2FACE_ALLOCATOR"] = allocator;
            start.Environment.Remove("LD_PRELOAD");
            start.Environment.Remove(AllocatorLauncher.Marker);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            Assert.IsTrue(process.WaitForExit(TimeSpan.FromMinutes(3)), $"{allocator}: finished");
            result = (process.ExitCode, error.Result);
            if (process.ExitCode != 0)
                return null;
            return File.ReadAllText(log);
        }
    }
}
