using System.Runtime.CompilerServices;

// The loss micro-benchmark (samples/LH2Face.Benchmarks, command "losses") times the internal heads and FaceLoss directly.
[assembly: InternalsVisibleTo("LH2Face.Benchmarks")]
