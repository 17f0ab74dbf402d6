using System.Runtime.InteropServices;
using Microsoft.ML.LH2Face.Native;

namespace Microsoft.ML.LH2Face.Tests.Native;

[TestClass]
public sealed class GlibcHeapTests
{
    [TestMethod]
    public void KeepFreed_LargeBlocksComeFromTheHeap()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("glibc only.");
        StringAssert.StartsWith(GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed), "C heap keeps freed blocks");

        // A 40 MB block: glibc mmaps it by default (its threshold is at most 32 MB); now the heap serves it.
        // (A thread's own arena grows in 64 MB heaps: larger blocks than that still get their own mapping.)
        nuint mappedBefore = mallinfo2().hblkhd;
        IntPtr block = Marshal.AllocHGlobal(40 << 20);
        try
        {
            Assert.AreEqual(mappedBefore, mallinfo2().hblkhd, "the 40 MB block was mmapped");
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
        StringAssert.Contains(GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed), "set earlier in this process");
    }

    [TestMethod]
    public void AUserSettingOrUnchanged_LeavesMallocAlone()
    {
        Assert.AreEqual("C heap left unchanged (Options.NativeHeap = Unchanged).", GlibcHeap.Apply(LH2FaceNativeHeap.Unchanged));
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("glibc only.");
        Environment.SetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_", "1048576");
        try
        {
            Assert.AreEqual("C heap left unchanged (MALLOC_TRIM_THRESHOLD_ is set in the environment).", GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_", null);
        }
    }

    [TestMethod]
    public void ReplacementAllocator_IsFoundAmongTheMappedFiles()
    {
        string[] plain = ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so", "/tmp/jemalloc-notes.txt"];
        Assert.IsNull(GlibcHeap.ReplacementAllocator(plain));
        Assert.AreEqual("libtcmalloc_minimal.so.4.5.10", GlibcHeap.ReplacementAllocator([.. plain, "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10"]));
        Assert.AreEqual("libjemalloc.so.2", GlibcHeap.ReplacementAllocator(["/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", .. plain]));
        Assert.AreEqual("libmimalloc.so.2.1", GlibcHeap.ReplacementAllocator(["/opt/lib/libmimalloc.so.2.1"]));
        Assert.AreEqual("/opt/lib/libtcmalloc.so.4", GlibcHeap.ReplacementAllocatorPath(["/opt/tcmalloc/readme.so.txt", .. plain, "/opt/lib/libtcmalloc.so.4"]));
        Assert.IsNull(GlibcHeap.ReplacementAllocatorPath(plain));
        if (OperatingSystem.IsLinux() && GlibcHeap.ReplacementAllocator(File.ReadLines("/proc/self/maps")) is null)
            Assert.IsFalse(GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed).Contains("serves malloc", StringComparison.Ordinal), "glibc serves malloc in this test process");
    }

    /// <summary>glibc's struct mallinfo2 (malloc.h): ten size_t fields.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc", ExactSpelling = true)]
    private static extern MallInfo2 mallinfo2();
}
