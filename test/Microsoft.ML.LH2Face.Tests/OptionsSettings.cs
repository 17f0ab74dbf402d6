using Microsoft.ML.LH2Face.Settings;

namespace Microsoft.ML.LH2Face.Tests;

/// <summary>The tests build components from options the way the trainer does: through the one mapping, <see cref="TrainerSettings.From"/>.</summary>
internal static class OptionsSettings
{
    public static TrainerSettings Settings(this LH2FaceTrainer.Options options) => TrainerSettings.From(options);
}
