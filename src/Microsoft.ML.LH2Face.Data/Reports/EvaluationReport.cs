using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Reports;

/// <summary>
/// The results to put in one report, each under a name (e.g. "IJB-B", "LFW", "SynthFace / hard-HQ"),
/// in the order they were added. Write it with <see cref="EvaluationReportWriter"/>.
/// </summary>
public sealed class EvaluationReport
{
    private readonly List<KeyValuePair<string, VerificationResult>> verification = new();
    private readonly List<KeyValuePair<string, TenFoldResult>> tenFold = new();
    private readonly List<KeyValuePair<string, IdentificationResult>> identification = new();
    private readonly List<KeyValuePair<string, ImageFidelityResult>> fidelity = new();

    /// <summary>Creates an empty report.</summary>
    /// <param name="title">Report title (first markdown heading).</param>
    public EvaluationReport(string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        Title = title;
    }

    /// <summary>Report title.</summary>
    public string Title { get; }

    /// <summary>1:1 verification results (ROC, TAR@FAR, EER).</summary>
    public IReadOnlyList<KeyValuePair<string, VerificationResult>> Verification => verification;

    /// <summary>10-fold accuracy results of pair sets.</summary>
    public IReadOnlyList<KeyValuePair<string, TenFoldResult>> TenFold => tenFold;

    /// <summary>1:N identification results.</summary>
    public IReadOnlyList<KeyValuePair<string, IdentificationResult>> Identification => identification;

    /// <summary>PSNR of rendered images against ground truth (e.g. the renderer's canonical faces against SynthFace's frontal renders).</summary>
    public IReadOnlyList<KeyValuePair<string, ImageFidelityResult>> ImageFidelity => fidelity;

    /// <summary>Adds a verification result.</summary>
    /// <param name="name">Name of the set (unique within the verification results).</param>
    /// <param name="result">The result.</param>
    public EvaluationReport AddVerification(string name, VerificationResult result) => Add(verification, name, result);

    /// <summary>Adds every stratum of a stratified evaluation as "<paramref name="prefix"/> / stratum".</summary>
    /// <param name="prefix">Name of the whole set.</param>
    /// <param name="strata">Results per stratum (from <see cref="StratifiedVerification.Evaluate"/>).</param>
    public EvaluationReport AddStrata(string prefix, IReadOnlyDictionary<string, VerificationResult> strata)
    {
        ArgumentNullException.ThrowIfNull(strata);
        foreach (var (stratum, result) in strata)
            AddVerification($"{prefix} / {stratum}", result);
        return this;
    }

    /// <summary>Adds a 10-fold accuracy result.</summary>
    /// <param name="name">Name of the pair set.</param>
    /// <param name="result">The result.</param>
    public EvaluationReport AddTenFold(string name, TenFoldResult result) => Add(tenFold, name, result);

    /// <summary>Adds an identification result.</summary>
    /// <param name="name">Name of the gallery/probe set.</param>
    /// <param name="result">The result.</param>
    public EvaluationReport AddIdentification(string name, IdentificationResult result) => Add(identification, name, result);

    /// <summary>Adds a PSNR result of rendered images.</summary>
    /// <param name="name">What was compared with what (unique within the fidelity results).</param>
    /// <param name="result">The result.</param>
    public EvaluationReport AddImageFidelity(string name, ImageFidelityResult result) => Add(fidelity, name, result);

    private EvaluationReport Add<T>(List<KeyValuePair<string, T>> list, string name, T result)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(result);
        if (list.Exists(p => p.Key == name))
            throw new ArgumentException($"The report already holds a result named '{name}' of this kind: give each result its own name.", nameof(name));
        list.Add(new(name, result));
        return this;
    }
}
