using System.Diagnostics;

namespace LH2Face.Build.Tests;

/// <summary>The TorchSharp backend switch of build/TorchBackend.*, read by evaluating the library project (no restore).</summary>
[TestClass]
public sealed class TorchBackendTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.LH2Face.sln")))
            dir = dir.Parent;
        Assert.IsNotNull(dir, "repository root not found above the test output");
        return dir.FullName;
    }

    private static (int ExitCode, string Output) Evaluate(string arguments)
    {
        var start = new ProcessStartInfo("dotnet", $"msbuild src/Microsoft.ML.LH2Face/Microsoft.ML.LH2Face.csproj -nologo {arguments}")
        {
            WorkingDirectory = RepoRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(120_000), "dotnet msbuild did not finish in 2 minutes");
        return (process.ExitCode, output.Result + error.Result);
    }

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
