using System.Diagnostics;

namespace LH2Face.Build.Tests;

/// <summary>The repository root and child <c>dotnet</c> commands for the build tests.</summary>
internal static class DotNet
{
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.LH2Face.sln")))
            dir = dir.Parent;
        Assert.IsNotNull(dir, "repository root not found above the test output");
        return dir.FullName;
    }

    /// <summary>
    /// Runs <c>dotnet {arguments}</c> in <paramref name="directory"/> with <paramref name="environment"/> added to (or, for
    /// null values, removed from) this process's variables; returns the exit code and stdout + stderr.
    /// </summary>
    public static (int ExitCode, string Output) Run(string arguments, string directory, int timeoutSeconds, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {arguments} did not finish in {timeoutSeconds} s");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
