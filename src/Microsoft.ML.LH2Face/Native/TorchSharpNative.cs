using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LH2Face.Build;

namespace Microsoft.ML.LH2Face.Native;

/// <summary>
/// Makes TorchSharp's native library loadable where no build step ran (notebooks, <c>dotnet script</c>,
/// apps built without the package's buildTransitive targets). TorchSharp 0.107.0's libLibTorchSharp.so
/// requires GLIBCXX_3.4.32 for one symbol it never calls; where the host's libstdc++ lacks that version
/// (Debian 12 stops at 3.4.30) dlopen fails. The build step marks the requirement weak in the output
/// copy; here the library does the same at run time: it copies the original into a cache folder named
/// after the original's SHA-256, marks the requirement weak (<see cref="ElfVersionNeed.MarkWeak"/>),
/// loads libtorch's CPU libraries (the libtorch-cpu-linux-x64 version TorchSharp names) and then the
/// copy. TorchSharp's own load by name then finds the copy already loaded (the dynamic loader matches
/// the soname), so nothing else changes.
/// </summary>
/// <remarks>
/// Runs before first torch use (the trainer's Fit) and does nothing where nothing is needed: off Linux
/// x64, where libstdc++ has the version, or where the library TorchSharp will load already has the
/// requirement weak (the build step ran). It must run before anything else loads TorchSharp: a process
/// that already failed to load the original keeps TorchSharp's failure. Concurrent processes are safe:
/// each writes its own temporary file in the cache folder and renames it into place; the first rename
/// wins, and a file found in place is used only if it equals the original byte for byte except the one
/// flag. It never throws: if anything fails, the reason goes to the ML.NET log and into the error the
/// trainer raises when TorchSharp then fails to load; a failed attempt is tried again on the next Fit.
/// </remarks>
internal static class TorchSharpNative
{
    internal const string LibraryFile = "libLibTorchSharp.so";
    internal const string RequiredVersion = "GLIBCXX_3.4.32";
    internal const string CacheFolderVariable = "LH2FACE_NATIVE_CACHE";

    /// <summary>Temporary files older than this in a cache folder are left-overs of a killed process and are removed.</summary>
    private static readonly TimeSpan StaleTemporary = TimeSpan.FromHours(1);

    private static readonly object Gate = new();
    private static TorchSharpNativeResult? result;

    /// <summary>
    /// Prepares and loads the weakened copy when this process needs one; logs what it did. A success or a
    /// "not needed" is kept for the process; a failure is not, so the next call tries again.
    /// </summary>
    public static TorchSharpNativeResult EnsureLoadable(Action<string>? log)
    {
        lock (Gate)
        {
            if (result is not null)
                return result;
            var outcome = Prepare();
            if (outcome.Message is not null)
                log?.Invoke(outcome.Message);
            if (outcome.Action != TorchSharpNativeAction.Failed)
                result = outcome;
            return outcome;
        }
    }

    private static TorchSharpNativeResult Prepare()
    {
        try
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.ProcessArchitecture != Architecture.X64)
                return TorchSharpNativeResult.NotNeeded(null);
            if (ElfVersionNeed.HostHasGlibcxx(RequiredVersion))
                return TorchSharpNativeResult.NotNeeded(null);

            var torchAssembly = typeof(TorchSharp.torch).Assembly;
            var original = FindOriginal(torchAssembly);
            if (original is null)
                return TorchSharpNativeResult.Failed($"LH2Face: this machine's libstdc++ lacks {RequiredVersion} and {LibraryFile} was not found next to " +
                    $"{torchAssembly.Location} nor in its NuGet package folder; TorchSharp's own loader will report the problem.");
            if (!NeedsWeakCopy(original))
                return TorchSharpNativeResult.NotNeeded(original);

            var libtorchDirectory = FindLibTorchDirectory(original, torchAssembly);
            if (libtorchDirectory is null)
                return TorchSharpNativeResult.Failed($"LH2Face: this machine's libstdc++ lacks {RequiredVersion}, but libtorch's libraries (libtorch.so) were not found " +
                    $"next to {original} nor in the libtorch-cpu-linux-x64 package folder; TorchSharp's own loader will report the problem.");

            string copy;
            try
            {
                copy = PrepareWeakCopy(original, CacheRoot());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // An unwritable cache folder (a container with HOME=/, a read-only home): the temp folder instead.
                copy = PrepareWeakCopy(original, Path.Combine(Path.GetTempPath(), "Microsoft.ML.LH2Face"));
            }
            foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
            {
                var path = Path.Combine(libtorchDirectory, name);
                if (File.Exists(path))
                    NativeLibrary.Load(path);
            }
            NativeLibrary.Load(copy);
            return new TorchSharpNativeResult(TorchSharpNativeAction.LoadedWeakCopy, original, copy,
                $"LH2Face: this machine's libstdc++ lacks {RequiredVersion}, which {original} requires for one symbol it never calls; " +
                $"loaded a copy with that requirement marked weak: {copy} (libtorch from {libtorchDirectory}).");
        }
        catch (Exception e) when (e is not (OutOfMemoryException or StackOverflowException or AccessViolationException))
        {
            return TorchSharpNativeResult.Failed($"LH2Face: could not prepare a loadable copy of {LibraryFile} ({e.GetType().Name}: {e.Message}); " +
                "TorchSharp's own loader will report the problem. Building the app with the Microsoft.ML.LH2Face package's targets avoids this step.");
        }
    }

    /// <summary>Whether <paramref name="library"/> still has a strong requirement on <see cref="RequiredVersion"/>.</summary>
    internal static bool NeedsWeakCopy(string library) =>
        ElfVersionNeed.Read(library).Any(n => n.Version == RequiredVersion && !n.IsWeak);

    /// <summary>
    /// The libLibTorchSharp.so the runtime would load for <paramref name="torchAssembly"/>: next to it
    /// (RID-specific output), in its runtimes/linux-x64/native folder (portable output), in the app's
    /// native search folders, or in its NuGet package (notebooks load TorchSharp.dll from the cache).
    /// </summary>
    internal static string? FindOriginal(Assembly torchAssembly)
    {
        var candidates = new List<string>();
        var directory = Path.GetDirectoryName(torchAssembly.Location);
        if (!string.IsNullOrEmpty(directory))
        {
            candidates.Add(Path.Combine(directory, LibraryFile));
            candidates.Add(Path.Combine(directory, "runtimes", "linux-x64", "native", LibraryFile));
        }
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirectories)
            candidates.AddRange(searchDirectories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, LibraryFile)));
        if (!string.IsNullOrEmpty(directory))
        {
            // <packages>/torchsharp/<version>/lib/<tfm>/TorchSharp.dll
            var packageRoot = Path.GetFullPath(Path.Combine(directory, "..", ".."));
            candidates.Add(Path.Combine(packageRoot, "runtimes", "linux-x64", "native", LibraryFile));
        }
        var version = torchAssembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];
        if (version is not null)
            candidates.Add(Path.Combine(NuGetPackagesFolder(), "torchsharp", version.ToLowerInvariant(), "runtimes", "linux-x64", "native", LibraryFile));
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The folder holding libtorch.so: beside the original (app output) or in the libtorch-cpu-linux-x64 package of the
    /// version TorchSharp names (CPU only: a CUDA backend's libtorch is not searched).
    /// </summary>
    internal static string? FindLibTorchDirectory(string original, Assembly torchAssembly)
        => FindLibTorchDirectory(original, LibTorchVersion(torchAssembly), NuGetPackagesFolder());

    /// <summary><see cref="FindLibTorchDirectory(string, Assembly)"/> with the wanted version and the NuGet folder given.</summary>
    internal static string? FindLibTorchDirectory(string original, string? wanted, string nugetPackages)
    {
        var beside = Path.GetDirectoryName(original)!;
        if (File.Exists(Path.Combine(beside, "libtorch.so")))
            return beside;
        var packages = new List<string>();
        // <packages>/torchsharp/<version>/runtimes/linux-x64/native -> <packages>
        var fromOriginal = Path.GetFullPath(Path.Combine(beside, "..", "..", "..", "..", ".."));
        packages.Add(fromOriginal);
        packages.Add(nugetPackages);
        foreach (var root in packages.Distinct())
        {
            var package = Path.Combine(root, "libtorch-cpu-linux-x64");
            if (!Directory.Exists(package))
                continue;
            // The version TorchSharp was built against, and no other (another libtorch's ABI differs); the highest
            // restored version only when TorchSharp's constant could not be read.
            var versions = Directory.GetDirectories(package)
                .Where(v => File.Exists(Path.Combine(v, "runtimes", "linux-x64", "native", "libtorch.so")))
                .Where(v => wanted is null || Path.GetFileName(v) == wanted)
                .OrderByDescending(v => Version.TryParse(Path.GetFileName(v), out var parsed) ? parsed : new Version(0, 0))
                .ToList();
            if (versions.Count > 0)
                return Path.Combine(versions[0], "runtimes", "linux-x64", "native");
        }
        return null;
    }

    /// <summary>
    /// Copies <paramref name="original"/> into a cache folder named after its SHA-256, marks the
    /// requirement weak in the copy and returns its path. Write to a unique temporary file, then rename:
    /// a concurrent process either wins the rename or finds a complete file in place.
    /// </summary>
    internal static string PrepareWeakCopy(string original, string cacheRoot)
    {
        var need = ElfVersionNeed.Read(original).FirstOrDefault(n => n.Version == RequiredVersion && !n.IsWeak)
            ?? throw new InvalidDataException($"{original} has no strong {RequiredVersion} requirement to mark weak.");
        var bytes = File.ReadAllBytes(original);
        // The copy must be these bytes exactly: the original with the one vna_flags field (little-endian) marked weak.
        var expected = (byte[])bytes.Clone();
        ushort flags = (ushort)(need.Flags | ElfVersionNeed.VerFlagWeak);
        expected[need.FlagsOffset] = (byte)flags;
        expected[need.FlagsOffset + 1] = (byte)(flags >> 8);

        var hash = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant()[..16];
        var folder = Path.Combine(cacheRoot, "libtorchsharp-" + hash);
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, LibraryFile);
        if (IsExactly(target, expected))
            return target;
        RemoveStaleTemporaries(folder);

        var temporary = Path.Combine(folder, $".{LibraryFile}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temporary, bytes);
            ElfVersionNeed.MarkWeak(temporary, RequiredVersion);
            if (!IsExactly(temporary, expected))
                throw new InvalidDataException($"Marking {RequiredVersion} weak in a copy of {original} changed more than its flag.");
            try
            {
                File.Move(temporary, target, overwrite: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                // Another process renamed its copy first: keep it if it is exact, else replace it (rename is atomic).
                if (!IsExactly(target, expected))
                    File.Move(temporary, target, overwrite: true);
            }
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
        if (!IsExactly(target, expected))
            throw new InvalidDataException($"The cached copy {target} is not the weakened {LibraryFile}; delete the folder {folder} and retry.");
        return target;
    }

    private static bool IsExactly(string path, byte[] expected)
    {
        try
        {
            return File.Exists(path) && new FileInfo(path).Length == expected.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(expected);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Removes temporary files a killed process left in <paramref name="folder"/> (an hour old or more).</summary>
    private static void RemoveStaleTemporaries(string folder)
    {
        foreach (var file in Directory.GetFiles(folder, ".*.tmp"))
        {
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > StaleTemporary)
                    File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process removed or holds it.
            }
        }
    }

    /// <summary>
    /// $LH2FACE_NATIVE_CACHE, else $XDG_CACHE_HOME/Microsoft.ML.LH2Face, else ~/.cache/Microsoft.ML.LH2Face,
    /// else the temp folder when no home folder is set.
    /// </summary>
    internal static string CacheRoot()
    {
        var configured = Environment.GetEnvironmentVariable(CacheFolderVariable);
        if (!string.IsNullOrWhiteSpace(configured))
            return Path.GetFullPath(configured);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
            return Path.Combine(xdg, "Microsoft.ML.LH2Face");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home)
            ? Path.Combine(Path.GetTempPath(), "Microsoft.ML.LH2Face")
            : Path.Combine(home, ".cache", "Microsoft.ML.LH2Face");
    }

    private static string NuGetPackagesFolder()
    {
        var configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        return !string.IsNullOrWhiteSpace(configured)
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    /// <summary>TorchSharp's libtorch package version ("2.10.0"), read from its constant; null if it moved.</summary>
    private static string? LibTorchVersion(Assembly torchAssembly)
    {
        var field = torchAssembly.GetType("TorchSharp.torch")?.GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static);
        if (field?.GetRawConstantValue() is not string value)
            return null;
        // "2.10.0.0" -> "2.10.0" (NuGet folder names drop a zero fourth part).
        var parts = value.Split('.');
        return parts.Length == 4 && parts[3] == "0" ? string.Join('.', parts.Take(3)) : value;
    }
}

/// <summary>What <see cref="TorchSharpNative.EnsureLoadable"/> did.</summary>
internal enum TorchSharpNativeAction
{
    /// <summary>Nothing was needed (not Linux x64, libstdc++ new enough, or the build step ran).</summary>
    NotNeeded,

    /// <summary>A weakened copy was prepared (or found in the cache) and loaded.</summary>
    LoadedWeakCopy,

    /// <summary>Something was needed but could not be done; TorchSharp's loader reports the error.</summary>
    Failed,
}

/// <summary>The outcome, with the original and the copy's paths and the logged message.</summary>
internal sealed record TorchSharpNativeResult(TorchSharpNativeAction Action, string? Original, string? Copy, string? Message)
{
    public static TorchSharpNativeResult NotNeeded(string? original) => new(TorchSharpNativeAction.NotNeeded, original, null, null);

    public static TorchSharpNativeResult Failed(string message) => new(TorchSharpNativeAction.Failed, null, null, message);
}
