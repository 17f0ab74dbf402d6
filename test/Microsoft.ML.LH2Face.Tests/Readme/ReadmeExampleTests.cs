namespace Microsoft.ML.LH2Face.Tests.Readme;

[TestClass]
public sealed class ReadmeExampleTests
{
    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.LH2Face.sln")))
            dir = dir.Parent;
        Assert.IsNotNull(dir, "repository root not found above the test output");
        return Path.Combine(dir.FullName, relative);
    }

    private static string[] Between(string[] lines, string begin, string end)
    {
        int start = Array.FindIndex(lines, l => l.Contains(begin)) + 1;
        int stop = Array.FindIndex(lines, start, l => l.Contains(end));
        Assert.IsTrue(start > 0 && stop > start, $"markers {begin} / {end} not found");
        return lines[start..stop];
    }

    [TestMethod]
    public void Readme_PipelineExample_IsTheCompiledOne()
    {
        var code = Between(File.ReadAllLines(RepoFile("test/Microsoft.ML.LH2Face.Tests/Readme/ReadmeExample.cs")), "// readme-begin", "// readme-end")
            .Select(l => l.Length >= 8 ? l[8..] : l.Trim()).ToArray();
        var readme = Between(File.ReadAllLines(RepoFile("README.md")), "<!-- readme-example-begin -->", "<!-- readme-example-end -->")
            .Where(l => !l.StartsWith("```", StringComparison.Ordinal)).ToArray();
        CollectionAssert.AreEqual(code, readme, "README.md's pipeline example must equal test/.../Readme/ReadmeExample.cs between the markers");
    }

    [TestMethod]
    public void ReadmeExample_OnGeneratedFolder_FitsSavesLoadsAndEmbeds()
    {
        var root = Directory.CreateTempSubdirectory("lh2face-readme-").FullName;
        try
        {
            Microsoft.ML.LH2Face.Testing.BlobFaces.Write(Path.Combine(root, "faces"), identities: 4, samples: 8, size: 40, seed: 21);
            var embedding = ReadmeSample.ReadmeExample.Run(Path.Combine(root, "faces"), Path.Combine(root, "model.zip"));
            Assert.AreEqual(64, embedding.Length);
            Assert.AreEqual(1.0, Math.Sqrt(embedding.Sum(v => (double)v * v)), 1e-4);
            Assert.IsTrue(File.Exists(Path.Combine(root, "model.zip")));

            // The same file rebuilt as an LH2FaceTransformer: it takes MLImage columns and gives the same embedding.
            var ml = new MLContext(seed: 0);
            var model = LH2FaceModelFile.ReadInterface(Path.Combine(root, "model.zip"))!;
            Assert.AreEqual(new LH2FaceModelInterface(32, 64, "Image", TakesImages: true, "Embedding", "Quality"), model);
            using var face = LH2FaceTransformer.Load(ml, Path.Combine(root, "model.zip"));
            Assert.AreEqual(32, face.InputSize);
            Assert.AreEqual(4 * 2, face.TrainingSummary.Steps, "4 epochs of 2 steps (32 images, batch 16)");
            var first = Directory.GetFiles(Directory.GetDirectories(Path.Combine(root, "faces"))[0], "*.png")[0];
            var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath")
                .Fit(ml.Data.LoadFromEnumerable(new[] { new ReadmeSample.FaceFile { ImagePath = first } }));
            var scored = face.Transform(images.Transform(ml.Data.LoadFromEnumerable(new[] { new ReadmeSample.FaceFile { ImagePath = first } })));
            var typed = ml.Data.CreateEnumerable<ReadmeSample.FaceEmbedding>(scored, reuseRowObject: false).Single().Embedding;
            CollectionAssert.AreEqual(embedding, typed, "the typed reload embeds as the plain ML.NET load does");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
