using System.Runtime.CompilerServices;

// The loss micro-benchmark (samples/LH2Face.Benchmarks, command "losses") times the internal heads and FaceLoss directly;
// the "overhead" command runs TrainingSession with its step-timing hook beside a bare loop on FaceNetwork, FaceLoss and OptimizerSet.
[assembly: InternalsVisibleTo("LH2Face.Benchmarks")]
