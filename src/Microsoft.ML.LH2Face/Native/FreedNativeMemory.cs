using System.Globalization;
using System.Runtime.InteropServices;

namespace Microsoft.ML.LH2Face.Native;

/// <summary>
/// Hands the C heap's free pages back to the system when training ends, before the model is exported. A step's
/// activations are freed to the C heap, which keeps them for the next step (glibc under <see cref="LH2FaceNativeHeap.KeepFreed"/>,
/// or tcmalloc); after the last step nothing reuses them, while the export's own memory (the ONNX graphs as managed
/// byte arrays, ONNX Runtime's session) comes from elsewhere, so without this the process's peak is the training
/// peak plus the export's (IResNet-18 at batch 64 under tcmalloc: 3.49 GiB in training, 4.20 GiB at the export).
/// glibc returns its free pages with malloc_trim(0); tcmalloc with MallocExtension_ReleaseFreeMemory, found in the
/// preloaded library; jemalloc and mimalloc return idle pages by themselves.
/// </summary>
internal static class FreedNativeMemory
{
    private const string TcmallocRelease = "MallocExtension_ReleaseFreeMemory";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ReleaseFreeMemory();

    /// <summary>Returns the free pages of the allocator that serves malloc and says what was done, for the training log; null off Linux.</summary>
    public static string? Release()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        long before = ResidentBytes();
        string how;
        string? path = GlibcHeap.ReplacementAllocatorPath(GlibcHeap.MappedFiles());
        if (path is null)
        {
            try
            {
                how = malloc_trim(0) == 1 ? "glibc's malloc_trim" : "glibc's malloc_trim, which found nothing to return";
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                return $"Freed native memory left in the C heap after training (no glibc malloc_trim: {e.Message}).";
            }
        }
        else
        {
            string name = Path.GetFileName(path);
            if (!name.Contains("tcmalloc", StringComparison.Ordinal))
                return $"Freed native memory left to {name} after training: it returns idle pages to the system by itself.";
            // The library is already mapped (preloaded): loading it again only takes a reference to the same copy.
            if (!NativeLibrary.TryLoad(path, out var library))
                return $"Freed native memory left to {name} after training: {path} could not be opened.";
            try
            {
                if (!NativeLibrary.TryGetExport(library, TcmallocRelease, out var function))
                    return $"Freed native memory left to {name} after training: it has no {TcmallocRelease}.";
                Marshal.GetDelegateForFunctionPointer<ReleaseFreeMemory>(function)();
                how = $"{name}'s {TcmallocRelease}";
            }
            finally
            {
                NativeLibrary.Free(library);
            }
        }
        long after = ResidentBytes();
        return before < 0 || after < 0
            ? $"Freed native memory handed back to the system after training ({how})."
            : $"Freed native memory handed back to the system after training ({how}): resident {Gib(before)} before, {Gib(after)} after.";
    }

    /// <summary>This process's resident memory in bytes (VmRSS in /proc/self/status), or -1 where it cannot be read.</summary>
    internal static long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    continue;
                var kib = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return -1;
    }

    private static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB";

    [DllImport("libc", ExactSpelling = true)]
    private static extern int malloc_trim(nuint pad);
}
