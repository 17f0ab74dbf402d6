namespace Microsoft.ML.LH2Face;

/// <summary>The one way an option is refused: an <see cref="ArgumentOutOfRangeException"/> naming the option, its value and the fix.</summary>
internal static class OptionChecks
{
    /// <summary>Throws "LH2FaceTrainer.Options.{option} {problem}." unless <paramref name="ok"/>.</summary>
    public static void Require(bool ok, string option, string problem)
    {
        if (!ok)
            throw new ArgumentOutOfRangeException(option, $"LH2FaceTrainer.Options.{option} {problem}.");
    }
}
