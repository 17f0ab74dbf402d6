namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>A template-to-template verification pair.</summary>
/// <param name="TemplateA">Id of the first template.</param>
/// <param name="TemplateB">Id of the second template.</param>
/// <param name="Kind">Genuine, impostor or look-alike impostor.</param>
public sealed record SynthFaceTemplatePair(int TemplateA, int TemplateB, SynthFacePairKind Kind)
{
    /// <summary>True for a genuine pair.</summary>
    public bool IsSame => Kind == SynthFacePairKind.Genuine;
}
