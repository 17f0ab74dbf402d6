// The README's minimal pipeline, compiled and run by ReadmeExampleTests; README.md shows the lines
// between the "readme-begin" and "readme-end" markers, and a test checks they match.
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;

namespace ReadmeSample;

public static class ReadmeExample
{
    public static float[] Run(string faceFolder, string modelPath)
    {
        // readme-begin
        var ml = new MLContext(seed: 0);

        // root/<identity>/<image>.png: one row per image with its identity.
        var files = Directory.GetDirectories(faceFolder).SelectMany(dir =>
            Directory.GetFiles(dir, "*.png").Select(file => new FaceFile { ImagePath = file, Identity = Path.GetFileName(dir) }));
        var data = ml.Data.LoadFromEnumerable(files);

        var pipeline = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath")
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Identity"))
            .Append(ml.Transforms.LH2Face(new LH2FaceTrainer.Options
            {
                Backbone = LH2FaceBackbone.Compact, // IResNet50 (the default) wants a GPU
                InputSize = 32,
                EmbeddingSize = 64,
                Epochs = 4,
                BatchSize = 16,
                LearningRate = 0.05f,
            }));

        using var model = pipeline.Fit(data);
        ml.Model.Save(model, data.Schema, modelPath);

        // Later, or in another process: load and embed. Dispose the engine and the loaded model:
        // ML.NET then deletes its temporary copy of the ONNX graph.
        var loaded = ml.Model.Load(modelPath, out _);
        float[] embedding;
        using (var engine = ml.Model.CreatePredictionEngine<FaceFile, FaceEmbedding>(loaded))
            embedding = engine.Predict(files.First()).Embedding; // 64 floats, L2-normalised
        (loaded as IDisposable)?.Dispose();
        // readme-end
        return embedding;
    }
}

public sealed class FaceFile
{
    public string ImagePath { get; set; } = "";
    public string Identity { get; set; } = "";
}

public sealed class FaceEmbedding
{
    public float[] Embedding { get; set; } = Array.Empty<float>();
    public float[] Quality { get; set; } = Array.Empty<float>();
}
