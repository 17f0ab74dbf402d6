namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>One line of *_template_pair_label.txt: two template ids and whether they show the same person.</summary>
/// <param name="Template1">The first template id.</param>
/// <param name="Template2">The second template id.</param>
/// <param name="Label">1 for a genuine pair, 0 for an impostor pair.</param>
public readonly record struct IjbTemplatePair(int Template1, int Template2, int Label);
