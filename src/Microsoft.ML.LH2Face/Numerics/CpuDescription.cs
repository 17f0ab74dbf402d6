using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.LH2Face.Numerics;

/// <summary>The processor and the vector instruction sets oneDNN picks its CPU kernels by, for messages.</summary>
internal static class CpuDescription
{
    /// <summary>oneDNN's environment switch that caps the instruction set of its kernels (read once per process).</summary>
    public const string IsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>E.g. "AMD EPYC (AVX-512, AVX2); ONEDNN_MAX_CPU_ISA=AVX2".</summary>
    public static string Describe()
    {
        var sets = new List<string>();
        if (Avx512F.IsSupported)
            sets.Add("AVX-512");
        if (Avx2.IsSupported)
            sets.Add("AVX2");
        if (sets.Count == 0 && Avx.IsSupported)
            sets.Add("AVX");
        string isa = Environment.GetEnvironmentVariable(IsaVariable) is { Length: > 0 } cap ? $"; {IsaVariable}={cap}" : "";
        return $"{ModelName()} ({(sets.Count == 0 ? "no AVX" : string.Join(", ", sets))}){isa}";
    }

    private static string ModelName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                        return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
