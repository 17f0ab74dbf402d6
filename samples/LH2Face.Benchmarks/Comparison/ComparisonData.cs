using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace LH2Face.Benchmarks.Comparison;

/// <summary>
/// The images and pairs of a plan: the SynthFace small protocol with the plan's seeds and identity count;
/// on the test split, every training identity trains and the test protocol scores; on the validation
/// split, the first ValidationIdentities training identities are held out and their pairs score
/// (<see cref="SynthFaceProtocol.CreateValidation"/>). Images are rendered at 112 px and area-resized to
/// the input size (<see cref="SynthFaceEvaluation.RenderPlanar"/>).
/// </summary>
internal sealed class ComparisonData
{
    private ComparisonData(ComparisonPlan plan, SynthFaceProtocol protocol, SynthFaceGenerator trainGenerator, SynthFaceGenerator scoreGenerator, int firstTrainIdentity)
    {
        Plan = plan;
        Protocol = protocol;
        TrainGenerator = trainGenerator;
        ScoreGenerator = scoreGenerator;
        FirstTrainIdentity = firstTrainIdentity;
        Images = SynthFaceEvaluation.PairImages(protocol);
        var index = Images.Select((key, i) => (key, i)).ToDictionary(x => x.key, x => x.i);
        PairImages = protocol.Pairs.Select(p => (index[(p.IdentityA, p.SampleA)], index[(p.IdentityB, p.SampleB)])).ToArray();
        IsGenuine = protocol.Pairs.Select(p => p.IsSame).ToArray();
        Strata = protocol.Pairs.Select(p => p.Stratum.ToString()).ToArray();
        ImageFactors = Images.Select(k => scoreGenerator.DrawFactors(k.Item1, k.Item2)).ToArray();
    }

    public ComparisonPlan Plan { get; }

    /// <summary>The scored protocol (test, or validation among held-out training identities).</summary>
    public SynthFaceProtocol Protocol { get; }

    public SynthFaceGenerator TrainGenerator { get; }

    /// <summary>The generator of the scored images.</summary>
    public SynthFaceGenerator ScoreGenerator { get; }

    /// <summary>Training uses identities FirstTrainIdentity .. TrainIdentities - 1.</summary>
    public int FirstTrainIdentity { get; }

    /// <summary>Distinct scored images (identity, sample), in a fixed order.</summary>
    public IReadOnlyList<(int Identity, int Sample)> Images { get; }

    /// <summary>Each pair's two indices into <see cref="Images"/>.</summary>
    public (int A, int B)[] PairImages { get; }

    public bool[] IsGenuine { get; }

    public string[] Strata { get; }

    /// <summary>The factors of each scored image (quality, degradation).</summary>
    public SynthFaceFactors[] ImageFactors { get; }

    public static ComparisonData Create(ComparisonPlan plan)
    {
        var options = SynthFaceProtocolOptions.Small();
        options.TrainSeed = plan.TrainSeed;
        options.TestSeed = plan.TestSeed;
        options.TrainIdentities = plan.TrainIdentities;
        var protocol = plan.IsValidation ? SynthFaceProtocol.CreateValidation(options, plan.ValidationIdentities) : SynthFaceProtocol.Create(options);
        var train = new SynthFaceGenerator(protocol.TrainOptions);
        var score = plan.IsValidation ? train : new SynthFaceGenerator(protocol.TestOptions);
        return new ComparisonData(plan, protocol, train, score, plan.IsValidation ? plan.ValidationIdentities : 0);
    }

    /// <summary>The training images as keyed pixel rows at <paramref name="size"/>.</summary>
    public IDataView TrainData(MLContext ml, int size)
    {
        int perIdentity = Protocol.Options.TrainImagesPerIdentity, identities = Plan.TrainIdentities - FirstTrainIdentity;
        var keys = Enumerable.Range(0, identities * perIdentity).Select(k => (FirstTrainIdentity + k / perIdentity, k % perIdentity)).ToList();
        var pixels = SynthFaceEvaluation.RenderPlanar(TrainGenerator, keys, size);
        var rows = keys.Select((key, k) => new PixelRow { Identity = key.Item1.ToString("D5", CultureInfo.InvariantCulture), Pixels = pixels[k] }).ToArray();
        return PixelRow.LoadKeyed(ml, rows, size);
    }

    /// <summary>The scored images as pixel rows at <paramref name="size"/>, in <see cref="Images"/> order.</summary>
    public IDataView ScoreData(MLContext ml, int size)
    {
        var rows = SynthFaceEvaluation.RenderPlanar(ScoreGenerator, Images, size).Select(p => new PixelRow { Pixels = p }).ToArray();
        return PixelRow.Load(ml, rows, size);
    }

    /// <summary>Cosine score of every pair from the embeddings of <see cref="Images"/>.</summary>
    public float[] Scores(float[][] embeddings)
        => PairImages.Select(p => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(embeddings[p.A], embeddings[p.B])).ToArray();

    /// <summary>A short description for report headers.</summary>
    public string Describe()
    {
        string split = Plan.IsValidation
            ? FormattableString.Invariant($"VALIDATION split: training identities {FirstTrainIdentity}..{Plan.TrainIdentities - 1} train, pairs among the held-out identities 0..{FirstTrainIdentity - 1}")
            : FormattableString.Invariant($"test seed {Plan.TestSeed}: {Plan.TrainIdentities} training identities, pairs among {Protocol.Options.TestIdentities} test identities");
        int genuine = Protocol.Pairs.Where(p => p.IsSame).Count() / 3, impostor = Protocol.Pairs.Where(p => !p.IsSame).Count() / 3;
        return FormattableString.Invariant($"SynthFace small protocol, train seed {Plan.TrainSeed}, {split} ({Protocol.Pairs.Count} pairs on {Images.Count} images; per stratum {genuine} genuine, {impostor} impostor)");
    }
}
