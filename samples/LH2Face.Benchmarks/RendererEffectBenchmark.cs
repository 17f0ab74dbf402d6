using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace LH2Face.Benchmarks;

/// <summary>
/// The renderer's effect (issue #6, item 6), measured on SynthFace: trains the same network with the
/// renderer off and on (same options, seed and step budget) on the small protocol's train set, then
/// reports the verification metrics of both on the small protocol's test pairs per stratum (hard-HQ
/// first), and the PSNR of the canonical faces against the ground-truth frontal renders for the
/// untrained renderer (initial weights: one step at learning rates 1e-30, which only moves the
/// BatchNorm statistics), the trained one, and the input image itself as a do-nothing reference.
/// Train and test images are generated at 112 px and area-resized to the input size; embeddings are
/// taken without flip test.
/// </summary>
internal static class RendererEffectBenchmark
{
    private sealed class Scored
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public float[]? CanonicalFace { get; set; }
    }

    private sealed class Printer(string name, Stopwatch clock) : IProgress<LH2FaceProgress>
    {
        public void Report(LH2FaceProgress value)
        {
            if (value.Step % 20 == 0 || value.Step == value.TotalSteps)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  [{name}] step {value.Step}/{value.TotalSteps} loss {value.Loss:F3} {value.ImagesPerSecond:F0} img/s, {clock.Elapsed.TotalMinutes:F1} min"));
        }
    }

    public static int Run(ReadOnlySpan<string> args)
    {
        int size = 64, resolution = 32, batch = 64, epochs = 3, embedding = 128, seed = 42, trainIdentities = 0, maxSteps = 0;
        var backbone = LH2FaceBackbone.Compact;
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
                throw new ArgumentException($"Option '{args[i]}' needs a value.");
            string v = args[i + 1];
            switch (args[i])
            {
                case "--input-size": size = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--resolution": resolution = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--epochs": epochs = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--max-steps": maxSteps = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--embedding-size": embedding = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--train-identities": trainIdentities = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--backbone": backbone = Enum.Parse<LH2FaceBackbone>(v, ignoreCase: true); break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}': use --input-size, --resolution, --batch, --epochs, --max-steps, --embedding-size, --seed, --train-identities or --backbone.");
            }
        }

        var clock = Stopwatch.StartNew();
        var protocolOptions = SynthFaceProtocolOptions.Small();
        if (trainIdentities > 0)
            protocolOptions.TrainIdentities = trainIdentities;
        var protocol = SynthFaceProtocol.Create(protocolOptions);
        var ml = new MLContext(seed: 1);
        var train = TrainData(ml, new SynthFaceGenerator(protocol.TrainOptions), protocolOptions.TrainIdentities, protocolOptions.TrainImagesPerIdentity, size);
        var testGenerator = new SynthFaceGenerator(protocol.TestOptions);
        var testImages = protocol.Pairs.SelectMany(p => new[] { (p.IdentityA, p.SampleA), (p.IdentityB, p.SampleB) }).Distinct().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"renderer effect: {backbone} at {size}px, embedding {embedding}, batch {batch}, {epochs} epoch(s){(maxSteps > 0 ? $" (at most {maxSteps} steps)" : "")}, renderer {resolution}px; " +
            $"SynthFace small: {protocolOptions.TrainIdentities}x{protocolOptions.TrainImagesPerIdentity} train images, {protocol.Pairs.Count} test pairs on {testImages.Count} images; " +
            $"{Environment.ProcessorCount} core(s), OMP_NUM_THREADS={Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "unset"}"));

        LH2FaceTrainer.Options Options(bool renderer, string name) => new()
        {
            ImageColumnName = nameof(PixelRow.Pixels),
            Backbone = backbone,
            InputSize = size,
            EmbeddingSize = embedding,
            BatchSize = batch,
            Epochs = epochs,
            MaxSteps = maxSteps,
            Seed = seed,
            Device = LH2FaceDevice.Cpu,
            UseRenderer = renderer,
            RendererResolution = resolution,
            Progress = new Printer(name, clock),
        };

        var results = new Dictionary<string, (IReadOnlyDictionary<string, VerificationResult> Strata, IReadOnlyDictionary<string, ImageFidelityResult>? Psnr, double Minutes)>();
        IReadOnlyDictionary<string, ImageFidelityResult> untrained;
        var initial = Options(renderer: true, "untrained");
        initial.LearningRate = 1e-30f;
        initial.RendererLearningRate = 1e-30f;
        initial.MaxSteps = 1;
        using (var model = ml.Transforms.LH2Face(initial).Fit(train))
            untrained = Evaluate(ml, model, protocol, testGenerator, testImages, size, resolution).Psnr!;
        foreach (bool renderer in new[] { false, true })
        {
            string name = renderer ? "renderer on" : "renderer off";
            var start = clock.Elapsed;
            using var model = ml.Transforms.LH2Face(Options(renderer, name)).Fit(train);
            double minutes = (clock.Elapsed - start).TotalMinutes;
            var (strata, psnr) = Evaluate(ml, model, protocol, testGenerator, testImages, size, resolution);
            results[name] = (strata, psnr, minutes);
        }
        var inputAsCanonical = SynthFaceCanonicalFidelity.Measure(testGenerator, testImages, resolution,
            samples => samples.Select(s => ImageFidelity.ResizeArea(ImageFidelity.ToPlanar(s.Rgb, s.Size), 3, s.Size, resolution)).ToArray());

        Console.WriteLine();
        Console.WriteLine("| model | train min | stratum | EER | TAR@FAR=1e-3 | TAR@FAR=1e-2 | TAR@FAR=1e-1 |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---:|");
        foreach (var stratum in new[] { nameof(SynthFaceStratum.HardHQ), nameof(SynthFaceStratum.EasyHQ), nameof(SynthFaceStratum.LQ) })
        {
            foreach (var (name, r) in results)
            {
                var v = r.Strata[stratum];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {r.Minutes:F1} | {stratum} | {100 * v.Eer:F1}% | {Tar(v, 1e-3)} | {Tar(v, 1e-2)} | {Tar(v, 1e-1)} |"));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"canonical face vs ground-truth frontal render, {resolution}px, {testImages.Count} test images: mean PSNR (dB)");
        Console.WriteLine("| canonical face | all | EasyHQ | HardHQ | LQ |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        PrintPsnr("untrained renderer", untrained);
        PrintPsnr("trained renderer", results["renderer on"].Psnr!);
        PrintPsnr("input image itself (reference)", inputAsCanonical);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {clock.Elapsed.TotalMinutes:F1} min"));
        return 0;
    }

    private static string Tar(VerificationResult r, double far)
    {
        var t = r.TarAtFar.FirstOrDefault(x => Math.Abs(x.TargetFar - far) < far * 1e-6);
        return t is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{100 * t.Tar:F1}%{(t.IsBelowResolution ? "*" : "")}");
    }

    private static void PrintPsnr(string name, IReadOnlyDictionary<string, ImageFidelityResult> psnr)
    {
        string Cell(string key) => psnr.TryGetValue(key, out var r) ? r.MeanPsnr.ToString("F2", CultureInfo.InvariantCulture) : "-";
        Console.WriteLine($"| {name} | {Cell(SynthFaceCanonicalFidelity.AllImages)} | {Cell("EasyHQ")} | {Cell("HardHQ")} | {Cell("LQ")} |");
    }

    /// <summary>Embeds (and renders) every test image once; scores the pairs per stratum and the canonical faces against the frontal truth.</summary>
    private static (IReadOnlyDictionary<string, VerificationResult> Strata, IReadOnlyDictionary<string, ImageFidelityResult>? Psnr) Evaluate(
        MLContext ml, LH2FaceTransformer model, SynthFaceProtocol protocol, SynthFaceGenerator generator, List<(int, int)> images, int size, int resolution)
    {
        var samples = images.Select(k => generator.Generate(k.Item1, k.Item2)).ToList();
        var rows = samples.Select(s => new PixelRow { Pixels = ImageFidelity.ResizeArea(ImageFidelity.ToPlanar(s.Rgb, s.Size), 3, s.Size, size) });
        var scoredView = model.Transform(PixelRow.Load(ml, rows, size));
        var embeddings = scoredView.GetColumn<VBuffer<float>>(model.EmbeddingColumnName).Select(v => v.DenseValues().ToArray()).ToArray();
        var index = images.Select((key, i) => (key, i)).ToDictionary(x => x.key, x => x.i);
        var scores = protocol.Pairs.Select(p => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(
            embeddings[index[(p.IdentityA, p.SampleA)]], embeddings[index[(p.IdentityB, p.SampleB)]])).ToArray();
        var strata = StratifiedVerification.Evaluate(scores, protocol.Pairs.Select(p => p.IsSame).ToArray(), protocol.Pairs.Select(p => p.Stratum.ToString()).ToList());
        if (model.CanonicalFaceColumnName is not { } canonicalColumn)
            return (strata, null);
        var canonical = scoredView.GetColumn<VBuffer<float>>(canonicalColumn).Select(v => v.DenseValues().ToArray()).ToArray();
        int next = 0;
        var psnr = SynthFaceCanonicalFidelity.Measure(generator, images, resolution, batch =>
        {
            var slice = canonical.AsSpan(next, batch.Count).ToArray();
            next += batch.Count;
            return slice;
        });
        return (strata, psnr);
    }

    /// <summary>The train split as planar pixels at the input size (generated at 112 px, area-resized) with an Identity key column "Label".</summary>
    private static IDataView TrainData(MLContext ml, SynthFaceGenerator generator, int identities, int perIdentity, int size)
    {
        // (At the generator's own size ResizeArea averages one value per pixel: the same floats as no resize.)
        return PixelRow.LoadKeyed(ml, PixelRow.Generate(generator, identities * perIdentity, k => (k / perIdentity, k % perIdentity), size), size);
    }
}
