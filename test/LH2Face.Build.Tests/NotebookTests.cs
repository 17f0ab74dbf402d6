using System.Text.Json;
using System.Text.RegularExpressions;

namespace LH2Face.Build.Tests;

/// <summary>
/// Every notebook under samples/notebooks, run headless by dotnet-repl (the local tool of dotnet-tools.json) against
/// the packages of this test run (<see cref="PackedFeed"/>): the run must exit 0, no cell may have an error output, and
/// the notebook must show what it promises: tables, at least one chart or image, and its final "disposed".
/// </summary>
[TestClass]
public sealed class NotebookTests
{
    private static string NotebookFolder => Path.Combine(DotNet.RepoRoot(), "samples", "notebooks");

    public static IEnumerable<object[]> Notebooks()
        => Directory.GetFiles(NotebookFolder, "*.ipynb").Order(StringComparer.Ordinal).Select(p => new object[] { Path.GetFileName(p) });

    [ClassInitialize]
    public static void RestoreTools(TestContext _)
    {
        var (code, output) = DotNet.Run("tool restore", DotNet.RepoRoot(), 300);
        Assert.AreEqual(0, code, "dotnet tool restore: " + output);
    }

    [TestMethod]
    public void TheFiveSampleNotebooksAreThere()
    {
        CollectionAssert.AreEqual(
            new[] { "01-quick-start.ipynb", "02-automl-sweep.ipynb", "03-loss-comparison.ipynb", "04-renderer.ipynb", "05-your-data.ipynb" },
            Notebooks().Select(n => (string)n[0]).ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(Notebooks))]
    public void Notebook_RunsHeadlessWithoutErrorsAndShowsTablesAndCharts(string notebook)
    {
        var work = Directory.CreateTempSubdirectory("lh2face-notebook-").FullName;
        try
        {
            var output = Path.Combine(work, notebook);
            var environment = new Dictionary<string, string?>
            {
                ["LH2FACE_PACKAGES"] = PackedFeed.Folder,
                ["LH2FACE_VERSION"] = PackedFeed.Version,
                // A fresh cache: where the machine needs it, the library prepares TorchSharp's native library itself.
                ["LH2FACE_NATIVE_CACHE"] = Path.Combine(work, "native-cache"),
            };
            var (code, log) = DotNet.Run($"repl --run \"{Path.Combine(NotebookFolder, notebook)}\" --exit-after-run --output-path \"{output}\"", NotebookFolder, 900, environment);
            Assert.IsTrue(File.Exists(output), $"{notebook}: dotnet-repl wrote no output notebook (exit {code}): {log}");
            var cells = ReadCells(output);
            var errors = cells.Where(c => c.Errors.Count > 0).Select(c => $"{notebook}, cell {c.Index} ({c.FirstLine}): {string.Join(" | ", c.Errors)}").ToList();
            Assert.IsEmpty(errors, string.Join("\n", errors));
            Assert.AreEqual(0, code, $"{notebook}: dotnet-repl exit code {code}: {log}");

            var html = string.Concat(cells.SelectMany(c => c.Html));
            StringAssert.Contains(html, "<table", $"{notebook} shows no table");
            Assert.IsTrue(Regex.IsMatch(html, "<img[^>]+src=\"data:image/png;base64,"), $"{notebook} shows no chart or image");
            var last = cells.Last(c => c.IsCode);
            StringAssert.Contains(string.Concat(last.Text), "disposed", $"{notebook}: the last cell disposes the models");
            // Every notebook trains, and no build step ran: where libstdc++ lacks the version, the library prepared TorchSharp's native library.
            if (!ElfVersionNeed.HostHasGlibcxx("GLIBCXX_3.4.32"))
            {
                var copies = Directory.GetFiles(environment["LH2FACE_NATIVE_CACHE"]!, "libLibTorchSharp.so", SearchOption.AllDirectories);
                Assert.HasCount(1, copies, $"{notebook}: one weakened copy in the notebook's native cache");
                Assert.IsTrue(ElfVersionNeed.Read(copies[0]).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed record Cell(int Index, bool IsCode, string FirstLine, List<string> Errors, List<string> Html, List<string> Text);

    private static List<Cell> ReadCells(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var cells = new List<Cell>();
        int index = 0;
        foreach (var cell in document.RootElement.GetProperty("cells").EnumerateArray())
        {
            bool isCode = cell.GetProperty("cell_type").GetString() == "code";
            string source = Join(cell.GetProperty("source"));
            var result = new Cell(index++, isCode, source.Split('\n')[0], new List<string>(), new List<string>(), new List<string>());
            if (isCode && cell.TryGetProperty("outputs", out var outputs))
            {
                foreach (var output in outputs.EnumerateArray())
                {
                    string kind = output.GetProperty("output_type").GetString()!;
                    if (kind == "error")
                        result.Errors.Add(output.GetProperty("ename").GetString() + ": " + output.GetProperty("evalue").GetString());
                    if (kind == "stream" && output.TryGetProperty("name", out var stream) && stream.GetString() == "stderr")
                        result.Errors.Add("stderr: " + Join(output.GetProperty("text")));
                    if (output.TryGetProperty("data", out var data))
                    {
                        if (data.TryGetProperty("text/html", out var html))
                            result.Html.Add(Join(html));
                        if (data.TryGetProperty("text/plain", out var text))
                            result.Text.Add(Join(text));
                    }
                }
            }
            cells.Add(result);
        }
        return cells;
    }

    private static string Join(JsonElement element)
        => element.ValueKind == JsonValueKind.Array ? string.Concat(element.EnumerateArray().Select(e => e.GetString())) : element.GetString() ?? "";
}
