namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>An IJB-style template: several images of one identity grouped into media (sessions).</summary>
/// <param name="Id">Template id, unique in the protocol.</param>
/// <param name="Identity">Test identity index.</param>
/// <param name="Samples">Sample indices of the images.</param>
/// <param name="Media">Media id of each image (same length as <paramref name="Samples"/>), unique across identities.</param>
public sealed record SynthFaceTemplate(int Id, int Identity, IReadOnlyList<int> Samples, IReadOnlyList<int> Media);
