namespace Microsoft.ML.LH2Face.Data.Reports;

/// <summary>Paths of the files a report was written to.</summary>
/// <param name="Markdown">The markdown report.</param>
/// <param name="Json">All numbers as JSON.</param>
/// <param name="Plots">PNG plots (ROC and histogram per verification result), in markdown order.</param>
public sealed record ReportFiles(string Markdown, string Json, IReadOnlyList<string> Plots);
