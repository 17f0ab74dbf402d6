namespace LH2Face.Build.Tests;

/// <summary>Version definitions of this machine's libstdc++ (Debian 12: up to GLIBCXX_3.4.30).</summary>
[TestClass]
public sealed class HostLibStdCxxTests
{
    [TestMethod]
    public void HostHasGlibcxx_Debian12LibStdCxx_HasUpTo3430Only()
    {
        if (!OperatingSystem.IsLinux() || ElfVersionNeed.FindHostLibStdCxx() is not string library)
        {
            Assert.Inconclusive("no system libstdc++.so.6 found");
            return;
        }

        IReadOnlyList<string> defined = ElfVersionNeed.ReadDefinedVersions(library);
        if (defined.Contains("GLIBCXX_3.4.32"))
        {
            Assert.Inconclusive(library + " is newer than Debian 12's; the expectations below do not apply");
        }

        Assert.IsTrue(ElfVersionNeed.HostHasGlibcxx("GLIBCXX_3.4.30"));
        Assert.IsFalse(ElfVersionNeed.HostHasGlibcxx("GLIBCXX_3.4.32"));
        CollectionAssert.Contains(defined.ToList(), "GLIBCXX_3.4");
        CollectionAssert.Contains(defined.ToList(), "CXXABI_1.3.13");
        CollectionAssert.DoesNotContain(defined.ToList(), "libstdc++.so.6");
    }
}
