using System.Runtime.InteropServices;

namespace LH2Face.Cli;

/// <summary>
/// Keeps freed native memory in the process on glibc. libtorch allocates every activation of a step
/// afresh; glibc serves blocks above 32 MB with mmap and unmaps them on free, so each step faults
/// its activations in again (measured on the main job: 31 M page faults and 57 s of system time in
/// one 31-step epoch). With mmap off and trimming off, the heap keeps the freed blocks for the next
/// step: 1.4 M page faults, 10 s of system time, the same losses to the last digit.
/// </summary>
public static class GlibcHeap
{
    /// <summary>glibc's mallopt parameter numbers (malloc.h).</summary>
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;

    /// <summary>Environment variables a user sets to choose glibc's behaviour; when any is set we leave malloc alone.</summary>
    internal static readonly string[] UserVariables = { "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "LH2FACE_DEFAULT_MALLOC" };

    /// <summary>
    /// On Linux with glibc, turns off mmap for large blocks and heap trimming for this process.
    /// Returns false (and changes nothing) elsewhere, on musl, or when the user set one of
    /// <see cref="UserVariables"/>.
    /// </summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || UserVariables.Any(v => Environment.GetEnvironmentVariable(v) is not null))
            return false;
        try
        {
            // mallopt returns 1 on success. int.MaxValue bytes (2 GB) is the largest trim threshold an int carries.
            return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", ExactSpelling = true)]
    private static extern int mallopt(int param, int value);
}
