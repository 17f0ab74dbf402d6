using System.Runtime.InteropServices;

namespace Microsoft.ML.LH2Face.Native;

/// <summary>
/// Applies <see cref="LH2FaceNativeHeap"/> to the process's glibc heap. libtorch allocates every activation of a step
/// afresh; glibc serves blocks above 32 MB with mmap and unmaps them on free, so each step faults its activations in
/// again (measured on the main job: 77 million page faults and 490 s of system time in two 31-step epochs). With mmap
/// off and trimming off the heap keeps the freed blocks for the next step: 1.3 million faults, 12 s of system time, the
/// same losses to the last digit. A bounded alternative was measured and not kept: mmap off with a 256 MB trim
/// threshold used twice the CPU time of mmap off alone and kept 4.9 GB of its 5.2 GB peak.
/// </summary>
internal static class GlibcHeap
{
    /// <summary>glibc's mallopt parameter numbers (malloc.h).</summary>
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;

    /// <summary>Environment variables through which a user chooses glibc's behaviour; when any is set the heap is left alone.</summary>
    internal static readonly string[] UserVariables = { "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "LH2FACE_DEFAULT_MALLOC" };

    private static readonly object Gate = new();
    private static bool applied;

    /// <summary>Applies <paramref name="policy"/> (once per process for KeepFreed) and says what was done, for the training log.</summary>
    public static string Apply(LH2FaceNativeHeap policy)
    {
        if (policy == LH2FaceNativeHeap.Unchanged)
            return "C heap left unchanged (Options.NativeHeap = Unchanged).";
        if (!OperatingSystem.IsLinux())
            return "C heap left unchanged (not Linux).";
        string? allocator = ReplacementAllocator(MappedFiles());
        if (allocator is not null)
            return $"C heap left unchanged: {allocator} serves malloc in this process (preloaded), so glibc's settings do not apply.";
        string? variable = UserVariables.FirstOrDefault(v => Environment.GetEnvironmentVariable(v) is not null);
        if (variable is not null)
            return $"C heap left unchanged ({variable} is set in the environment).";
        lock (Gate)
        {
            if (applied)
                return "C heap keeps freed blocks (mmap off, trimming off; set earlier in this process).";
            try
            {
                // mallopt returns 1 on success. int.MaxValue bytes (2 GB) is the largest trim threshold an int carries.
                applied = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                return $"C heap left unchanged (no glibc mallopt: {e.Message}).";
            }
            return applied
                ? "C heap keeps freed blocks (mmap off, trimming off: Options.NativeHeap = KeepFreed)."
                : "C heap left unchanged (mallopt refused the setting).";
        }
    }

    /// <summary>Allocators that replace malloc when preloaded (e.g. LD_PRELOAD=libtcmalloc_minimal.so.4; README, "Performance and memory").</summary>
    internal static readonly string[] ReplacementAllocators = { "tcmalloc", "jemalloc", "mimalloc" };

    /// <summary>The file name of the first mapped file that is one of <see cref="ReplacementAllocators"/>, or null.</summary>
    internal static string? ReplacementAllocator(IEnumerable<string> mappedFiles)
        => Path.GetFileName(ReplacementAllocatorPath(mappedFiles));

    /// <summary>The path of the first mapped file whose name is one of <see cref="ReplacementAllocators"/>, or null.</summary>
    internal static string? ReplacementAllocatorPath(IEnumerable<string> mappedFiles)
        => mappedFiles.FirstOrDefault(path => Path.GetFileName(path) is { } name && name.StartsWith("lib", StringComparison.Ordinal)
            && name.Contains(".so", StringComparison.Ordinal) && ReplacementAllocators.Any(a => name.Contains(a, StringComparison.Ordinal)));

    /// <summary>The files mapped into this process (/proc/self/maps), empty where that cannot be read.</summary>
    internal static IEnumerable<string> MappedFiles()
    {
        try
        {
            return File.ReadLines("/proc/self/maps").Select(line => line.IndexOf('/') is int i and >= 0 ? line[i..] : "").Where(path => path.Length > 0).Distinct().ToList();
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    [DllImport("libc", ExactSpelling = true)]
    private static extern int mallopt(int param, int value);
}
