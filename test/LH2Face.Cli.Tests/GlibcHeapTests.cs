using System.Runtime.InteropServices;

namespace LH2Face.Cli.Tests;

[TestClass]
public sealed class GlibcHeapTests
{
    [TestMethod]
    public void LargeBlocksComeFromTheHeapAfterKeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("glibc only.");
        Assert.IsTrue(GlibcHeap.KeepFreedMemory(), "mallopt should succeed on glibc.");

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
    }

    [TestMethod]
    public void AUserSettingLeavesMallocAlone()
    {
        Environment.SetEnvironmentVariable("LH2FACE_DEFAULT_MALLOC", "1");
        try
        {
            Assert.IsFalse(GlibcHeap.KeepFreedMemory());
        }
        finally
        {
            Environment.SetEnvironmentVariable("LH2FACE_DEFAULT_MALLOC", null);
        }
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
