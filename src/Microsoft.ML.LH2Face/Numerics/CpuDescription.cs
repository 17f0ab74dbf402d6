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

    /// <summary>
    /// True when /proc/cpuinfo lists bfloat16 instructions (avx512_bf16 or amx_bf16), which oneDNN's bfloat16 kernels use;
    /// false where it does not, or cannot be read.
    /// </summary>
    public static bool HasBFloat16Instructions()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("flags", StringComparison.Ordinal))
                        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(f => f is "avx512_bf16" or "amx_bf16");
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return false;
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
