using System.Runtime.InteropServices;
using Microsoft.ML.LH2Face.Native;

namespace Microsoft.ML.LH2Face.Tests.Native;

[TestClass]
public sealed class FreedNativeMemoryTests
{
    /// <summary>
    /// Under glibc with KeepFreed, 320 MB of touched and freed blocks stay resident (the heap keeps them for the next
    /// step); Release hands them back, and the log line names malloc_trim and the resident memory before and after.
    /// </summary>
    [TestMethod]
    public void Release_UnderGlibcKeepFreed_ReturnsTheFreedBlocks()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("glibc only.");
        if (GlibcHeap.ReplacementAllocator(File.ReadLines("/proc/self/maps")) is { } allocator)
            Assert.Inconclusive($"{allocator} serves malloc in this test process.");
        GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed);

        // 32 MB blocks: within a thread arena's 64 MB heaps, so the heap serves them rather than a mapping of their own.
        const int Blocks = 10, BlockBytes = 32 << 20;
        var blocks = new IntPtr[Blocks];
        for (int b = 0; b < Blocks; b++)
        {
            blocks[b] = Marshal.AllocHGlobal(BlockBytes);
            for (int offset = 0; offset < BlockBytes; offset += 4096)
                Marshal.WriteByte(blocks[b], offset, 1);
        }
        long touched = FreedNativeMemory.ResidentBytes();
        foreach (var block in blocks)
            Marshal.FreeHGlobal(block);
        long kept = FreedNativeMemory.ResidentBytes();
        Assert.IsTrue(kept > touched - (64L << 20), $"KeepFreed keeps the freed blocks: resident {touched >> 20} MB, then {kept >> 20} MB after the frees");

        string? line = FreedNativeMemory.Release();
        long after = FreedNativeMemory.ResidentBytes();

        Assert.IsNotNull(line);
        StringAssert.StartsWith(line, "Freed native memory handed back to the system after training (glibc's malloc_trim): resident ");
        StringAssert.Contains(line, " GiB before, ");
        Assert.IsTrue(after < kept - (Blocks * (long)BlockBytes) / 2, $"at least half of the {Blocks * BlockBytes >> 20} MB returned: resident {kept >> 20} MB, then {after >> 20} MB");
    }

    [TestMethod]
    public void ResidentBytes_ReadsThisProcess()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("/proc only.");
        long resident = FreedNativeMemory.ResidentBytes();
        Assert.IsTrue(resident > (10L << 20) && resident < (64L << 30), $"resident {resident} bytes");
    }
}
