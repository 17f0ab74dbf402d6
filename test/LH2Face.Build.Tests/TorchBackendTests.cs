namespace LH2Face.Build.Tests;

/// <summary>The TorchSharp backend switch of build/TorchBackend.*, read by evaluating the library project (no restore).</summary>
[TestClass]
public sealed class TorchBackendTests
{
    private static (int ExitCode, string Output) Evaluate(string arguments)
        => DotNet.Run($"msbuild src/Microsoft.ML.LH2Face/Microsoft.ML.LH2Face.csproj -nologo {arguments}", DotNet.RepoRoot(), 120);

    [TestMethod]
    public void Default_ReferencesTorchSharpCpu()
    {
        var (code, output) = Evaluate("-getItem:PackageReference");
        Assert.AreEqual(0, code, output);
        StringAssert.Contains(output, "\"Identity\": \"TorchSharp-cpu\"");
        Assert.IsFalse(output.Contains("TorchSharp-cuda-linux", StringComparison.Ordinal), output);
    }

    [TestMethod]
    public void CudaBackend_ReferencesTorchSharpCudaLinuxInstead()
    {
        var (code, output) = Evaluate("-getItem:PackageReference -p:TorchBackend=cuda");
        Assert.AreEqual(0, code, output);
        StringAssert.Contains(output, "\"Identity\": \"TorchSharp-cuda-linux\"");
        Assert.IsFalse(output.Contains("\"TorchSharp-cpu\"", StringComparison.Ordinal), output);
    }

    [TestMethod]
    public void UnknownBackend_FailsNamingTheChoices()
    {
        var (code, output) = Evaluate("-t:LH2FaceCheckTorchBackend -p:TorchBackend=rocm");
        Assert.AreNotEqual(0, code);
        StringAssert.Contains(output, "TorchBackend='rocm' is not supported: use -p:TorchBackend=cpu (default) or -p:TorchBackend=cuda.");
    }
}
