using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Alignment;
using Microsoft.ML.LH2Face.Data.Embedding;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Formats;
using Microsoft.ML.LH2Face.Data.Reports;
using Microsoft.ML.LH2Face.Data.Synthetic;
using Spectre.Console;

namespace LH2Face.Cli;

/// <summary><c>lh2face evaluate</c>: runs a verification or identification protocol on a model.zip or an ONNX model and writes a report.</summary>
public static class EvaluateCommand
{
    /// <summary>Images decoded and embedded at a time, so memory stays bounded on large protocols.</summary>
    private const int Chunk = 256;

    /// <summary>Runs the command; returns the process exit code (<see cref="ExitCodes"/>); errors go to <paramref name="errors"/> (default: <paramref name="console"/>).</summary>
    public static int Run(EvaluateSettings settings, IAnsiConsole console, CancellationToken cancellationToken, CliErrors? errors = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        errors ??= new CliErrors(console);
        // A failed or cancelled run leaves no --out folder behind that it created itself.
        bool outputExisted = string.IsNullOrWhiteSpace(settings.OutputDirectory) || Directory.Exists(settings.OutputDirectory);
        try
        {
            return RunCore(settings, console, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            RemoveCreatedOutput(settings, outputExisted);
            errors.Line("[yellow]Evaluation cancelled; no report written.[/]");
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            RemoveCreatedOutput(settings, outputExisted);
            return errors.Print(e);
        }
    }

    private static void RemoveCreatedOutput(EvaluateSettings s, bool existed)
    {
        try
        {
            if (!existed && Directory.Exists(s.OutputDirectory))
                Directory.Delete(s.OutputDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the error being reported matters more.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Creates the --out folder: only once there is something to write, so a run that fails earlier leaves nothing.</summary>
    private static string Output(EvaluateSettings s, string file)
    {
        Directory.CreateDirectory(s.OutputDirectory);
        return Path.Combine(s.OutputDirectory, file);
    }

    private static int RunCore(EvaluateSettings s, IAnsiConsole console, CancellationToken cancellationToken)
    {
        if (!File.Exists(s.ModelPath))
            throw new CliException($"Model file '{s.ModelPath}' does not exist.");
        if (s.Protocol != EvaluationProtocol.SynthFace && !File.Exists(s.DataPath) && !Directory.Exists(s.DataPath))
            throw new CliException($"Data '{s.DataPath}' does not exist.");
        OutputFile.CheckFolderWritable(s.OutputDirectory, "--out");
        // zip CRCs and the graph's SHA-256: a damaged or edited model.zip is named, not scored; its metadata gives the input size.
        var zip = ModelFiles.IsOnnx(s.ModelPath) ? null : ModelFiles.ReadZip(s.ModelPath, s.InputSize);
        using var embedder = CreateEmbedder(s, zip);
        var report = new EvaluationReport($"{Path.GetFileName(s.ModelPath)} on {Path.GetFileName(Path.TrimEndingDirectorySeparator(s.DataPath))} ({s.Protocol})");
        switch (s.Protocol)
        {
            case EvaluationProtocol.Bin:
                EvaluateBin(s, embedder, report, console, cancellationToken);
                break;
            case EvaluationProtocol.IjbB:
            case EvaluationProtocol.IjbC:
                EvaluateIjb(s, embedder, report, console, cancellationToken);
                break;
            case EvaluationProtocol.Folder:
                EvaluateFolder(s, embedder, report, console, cancellationToken);
                break;
            case EvaluationProtocol.SynthFace:
                EvaluateSynthFace(s, embedder, report, console, cancellationToken);
                break;
            default:
                throw new CliException($"Unknown protocol '{s.Protocol}'.");
        }
        var files = EvaluationReportWriter.Write(report, s.OutputDirectory); // creates --out
        console.MarkupLine(Markup.Escape($"Report: {files.Markdown}"));
        console.MarkupLine(Markup.Escape($"Numbers: {files.Json}"));
        return 0;
    }

    private static IFaceEmbedder CreateEmbedder(EvaluateSettings s, ZipModel? zip)
    {
        try
        {
            return CreateEmbedderCore(s, zip);
        }
        catch (Exception e) when (e is not (OperationCanceledException or CliException))
        {
            throw ModelFiles.CannotLoad(s.ModelPath, e, "Give a model.zip written by 'lh2face train' or an ONNX face model with a [N,3,S,S] input.");
        }
    }

    private static IFaceEmbedder CreateEmbedderCore(EvaluateSettings s, ZipModel? zip)
    {
        if (ModelFiles.IsOnnx(s.ModelPath))
        {
            var options = new OnnxFaceEmbedderOptions
            {
                InputSize = s.InputSize, Mean = s.Mean, Std = s.Std, ChannelOrder = s.Bgr ? ChannelOrder.Bgr : ChannelOrder.Rgb,
            };
            // A model exported by LH2FaceTransformer.ExportOnnx normalises inside the graph and takes raw
            // 0..255 RGB at the size its metadata names: feed it unnormalised whatever the options say.
            using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(s.ModelPath))
            {
                if (ModelFiles.LH2FaceOnnxInputSize(session.ModelMetadata.CustomMetadataMap) is int size)
                    options = new OnnxFaceEmbedderOptions { InputSize = size, Mean = 0, Std = 1, ChannelOrder = ChannelOrder.Rgb };
            }
            return new OnnxFaceEmbedder(s.ModelPath, options);
        }
        return ModelFiles.ZipEmbedder(s.ModelPath, zip!);
    }

    /// <summary>Embeds images produced on demand, a chunk at a time, with a progress bar.</summary>
    private static float[][] EmbedAll(string modelPath, IFaceEmbedder embedder, int count, Func<int, MLImage> load, bool flipTest, IAnsiConsole console, string what, CancellationToken cancellationToken)
    {
        var features = new float[count][];
        console.Progress().AutoClear(false).Start(context =>
        {
            var task = context.AddTask(Markup.Escape(what), maxValue: count);
            for (int start = 0; start < count; start += Chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(Chunk, count - start);
                var images = new List<MLImage>(n);
                try
                {
                    for (int i = 0; i < n; i++)
                        images.Add(load(start + i));
                    var chunk = embedder.Embed(images, flipTest);
                    for (int i = 0; i < chunk.Length; i++)
                    {
                        // NaN or infinite embeddings would surface later as "scores[k] is NaN": name the model and the image here.
                        if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(chunk[i])))
                            throw new CliException($"Model '{modelPath}' gives a NaN or infinite embedding for {what.Replace("embedding ", "")} item {start + i} (0-based): the model is broken (diverged training or a damaged file). Use another model.");
                    }
                    chunk.CopyTo(features, start);
                }
                finally
                {
                    foreach (var image in images)
                        image.Dispose();
                }
                task.Increment(n);
            }
        });
        return features;
    }

    /// <summary>The pairs whose two images decode completely: a damaged one is an error naming the pair, or left out with --skip-corrupt.</summary>
    private static VerificationPairs KeepDecodablePairs(VerificationPairs pairs, EvaluateSettings s, IAnsiConsole console)
    {
        var kept = new List<VerificationPair>(pairs.Count);
        int dropped = 0;
        string? first = null;
        for (int k = 0; k < pairs.Count; k++)
        {
            var pair = pairs.Pairs[k];
            var problem = ImageCheck.Problem(pair.ImageA) is { } a ? $"pair {k} (0-based), its first image: {a}"
                : ImageCheck.Problem(pair.ImageB) is { } b ? $"pair {k} (0-based), its second image: {b}" : null;
            if (problem is null)
            {
                kept.Add(pair);
                continue;
            }
            if (!s.SkipCorrupt)
                throw new CliException($"'{s.DataPath}': {problem}. Pass --skip-corrupt to leave such pairs out.");
            dropped++;
            first ??= problem;
        }
        if (dropped == 0)
            return pairs;
        console.MarkupLine($"[yellow]Skipped {dropped} pair(s) with an image that does not decode completely (--skip-corrupt)[/]: {Markup.Escape($"first: {first}")}");
        return new VerificationPairs(kept, Path.GetFileName(s.DataPath));
    }

    private static void EvaluateBin(EvaluateSettings s, IFaceEmbedder embedder, EvaluationReport report, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var pairs = KeepDecodablePairs(VerificationPairs.Read(s.DataPath), s, console);
        if (pairs.Count < 2)
            throw new CliException($"'{s.DataPath}' holds {pairs.Count} pair(s): the verification protocol needs at least 2 pairs (10 for its 10 folds).");
        // insightface's protocol is 10-fold; a set with fewer pairs gets one fold per pair (said in the report).
        int folds = Math.Min(10, pairs.Count);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{pairs.Count} pairs in '{s.DataPath}'{(folds < 10 ? $"; fewer than 10, so {folds} folds" : "")}.")));
        var features = EmbedAll(s.ModelPath, embedder, 2 * pairs.Count, i =>
        {
            var pair = pairs.Pairs[i / 2];
            var image = MLImage.CreateFromStream(new MemoryStream(i % 2 == 0 ? pair.ImageA : pair.ImageB));
            return ToInputSize(image, embedder.InputSize);
        }, s.FlipTest, console, "embedding pairs", cancellationToken);
        var isSame = pairs.Pairs.Select(p => p.IsSame).ToArray();
        var name = Path.GetFileNameWithoutExtension(s.DataPath);
        report.AddTenFold(name, TenFoldVerification.Evaluate(features, isSame, folds));
        var scores = new float[pairs.Count];
        for (int k = 0; k < pairs.Count; k++)
            scores[k] = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(features[2 * k], features[2 * k + 1]);
        report.AddVerification(name, VerificationMetrics.Evaluate(scores, isSame));
    }

    /// <summary>
    /// .bin images are aligned crops (112 px in the insightface sets); one of another size is scaled to the
    /// model input, as a model.zip would do itself.
    /// </summary>
    private static MLImage ToInputSize(MLImage image, int size)
    {
        if (image.Width == size && image.Height == size)
            return image;
        using (image)
        {
            var scale = SimilarityTransform.FromScaleRotation((double)size / image.Width, 0, 0, 0);
            return FaceAligner.Warp(image, scale, size, size);
        }
    }

    private static void EvaluateIjb(EvaluateSettings s, IFaceEmbedder embedder, EvaluationReport report, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var variant = s.Protocol == EvaluationProtocol.IjbB ? IjbVariant.IjbB : IjbVariant.IjbC;
        var meta = IjbMeta.Read(s.DataPath, variant);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{meta.Faces.Count} faces, {meta.TemplatePairs.Count} template pairs in '{s.DataPath}'.")));
        // Align each loose crop with its 5 points to the model's input size, then embed (image + flip).
        var features = EmbedAll(s.ModelPath, embedder, meta.Faces.Count, i =>
        {
            var face = meta.Faces[i];
            using var crop = MLImage.CreateFromFile(meta.ImagePath(face));
            return FaceAligner.Align(crop, face.Landmarks, embedder.InputSize);
        }, s.FlipTest, console, "embedding faces", cancellationToken);
        var templates = IjbTemplates.Aggregate(features,
            meta.Faces.Select(f => f.TemplateId).ToArray(), meta.Faces.Select(f => f.MediaId).ToArray(), meta.Faces.Select(f => f.Faceness).ToArray());
        var scores = IjbTemplates.ScorePairs(templates,
            meta.TemplatePairs.Select(p => p.Template1).ToArray(), meta.TemplatePairs.Select(p => p.Template2).ToArray());
        var genuine = meta.TemplatePairs.Select(p => p.Label == 1).ToArray();
        report.AddVerification(variant == IjbVariant.IjbB ? "IJB-B" : "IJB-C", VerificationMetrics.Evaluate(scores, genuine));
    }

    /// <summary>The SynthFace protocol for a preset name given as --data.</summary>
    public static SynthFaceProtocolOptions SynthFacePreset(string name) => name.ToLowerInvariant() switch
    {
        "small" => SynthFaceProtocolOptions.Small(),
        "full" => SynthFaceProtocolOptions.Full(),
        "tiny" => SynthFaceProtocolOptions.Tiny(),
        _ => throw new CliException($"SynthFace preset '{name}' is unknown: use small, full or tiny."),
    };

    private static void EvaluateSynthFace(EvaluateSettings s, IFaceEmbedder embedder, EvaluationReport report, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var protocol = SynthFaceProtocol.Create(SynthFacePreset(s.DataPath));
        var generator = new SynthFaceGenerator(protocol.TestOptions);
        // Every (identity, sample) the pairs and templates use, embedded once.
        var images = protocol.Pairs.SelectMany(p => new[] { (p.IdentityA, p.SampleA), (p.IdentityB, p.SampleB) })
            .Concat(protocol.Templates.SelectMany(t => t.Samples.Select(sample => (t.Identity, sample))))
            .Distinct().ToList();
        var index = images.Select((key, i) => (key, i)).ToDictionary(x => x.key, x => x.i);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"SynthFace {s.DataPath}: {protocol.Pairs.Count} pairs, {protocol.Templates.Count} templates, {images.Count} test images (seed {protocol.Options.TestSeed}).")));
        var features = EmbedAll(s.ModelPath, embedder, images.Count,
            i => ToInputSize(generator.Generate(images[i].Item1, images[i].Item2).ToImage(), embedder.InputSize), s.FlipTest, console, "embedding SynthFace", cancellationToken);

        var scores = protocol.Pairs.Select(p => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(
            features[index[(p.IdentityA, p.SampleA)]], features[index[(p.IdentityB, p.SampleB)]])).ToArray();
        var genuine = protocol.Pairs.Select(p => p.IsSame).ToArray();
        report.AddVerification("SynthFace (all pairs)", VerificationMetrics.Evaluate(scores, genuine));
        report.AddStrata("SynthFace", StratifiedVerification.Evaluate(scores, genuine, protocol.Pairs.Select(p => p.Stratum.ToString()).ToList()));
        // The same strata with one impostor kind at a time: look-alike twins are few but score close to
        // genuine pairs, so at low FAR they set the threshold; these rows show each kind's share.
        foreach (var (kind, label) in new[] { (SynthFacePairKind.Impostor, "random impostors"), (SynthFacePairKind.LookAlikeImpostor, "look-alike impostors") })
        {
            var strata = protocol.Pairs.Where(p => p.Kind == kind).Select(p => p.Stratum).ToHashSet();
            var keep = Enumerable.Range(0, scores.Length)
                .Where(k => strata.Contains(protocol.Pairs[k].Stratum) && (protocol.Pairs[k].IsSame || protocol.Pairs[k].Kind == kind)).ToArray();
            if (keep.Length == 0)
                continue;
            report.AddStrata($"SynthFace, {label}", StratifiedVerification.Evaluate(keep.Select(k => scores[k]).ToArray(), keep.Select(k => genuine[k]).ToArray(),
                keep.Select(k => protocol.Pairs[k].Stratum.ToString()).ToList()));
        }
        WritePairScores(Output(s, "pairs.csv"), protocol.Pairs, scores);

        // Template protocol: images of a template grouped by media, faceness 1 (IJB aggregation).
        var rows = protocol.Templates.SelectMany(t => t.Samples.Select((sample, k) => (Template: t.Id, Media: t.Media[k], Feature: features[index[(t.Identity, sample)]]))).ToList();
        var templates = IjbTemplates.Aggregate(rows.Select(r => r.Feature).ToList(), rows.Select(r => r.Template).ToArray(),
            rows.Select(r => r.Media).ToArray(), Enumerable.Repeat(1f, rows.Count).ToArray());
        var templateScores = IjbTemplates.ScorePairs(templates,
            protocol.TemplatePairs.Select(p => p.TemplateA).ToArray(), protocol.TemplatePairs.Select(p => p.TemplateB).ToArray());
        report.AddVerification("SynthFace templates", VerificationMetrics.Evaluate(templateScores, protocol.TemplatePairs.Select(p => p.IsSame).ToArray()));

        if (embedder is MlNetModelEmbedder model && model.OutputVectorSize(CanonicalFaceColumn) is int size)
            AddCanonicalFidelity(model, size, generator, images, report, console, cancellationToken);
    }

    /// <summary>The output column of the canonical face in model.zip files written by 'lh2face train --renderer'.</summary>
    public const string CanonicalFaceColumn = "CanonicalFace";

    /// <summary>
    /// A model with the renderer: PSNR of the canonical face of every test image against its identity's
    /// ground-truth frontal render, resized to the renderer resolution (see <see cref="SynthFaceCanonicalFidelity"/>).
    /// </summary>
    private static void AddCanonicalFidelity(MlNetModelEmbedder model, int size, SynthFaceGenerator generator, IReadOnlyList<(int, int)> images,
        EvaluationReport report, IAnsiConsole console, CancellationToken cancellationToken)
    {
        int resolution = (int)Math.Round(Math.Sqrt(size / 3.0));
        if (3 * resolution * resolution != size)
            throw new CliException($"The model's '{CanonicalFaceColumn}' column has {size} values, not planar RGB 3*R*R: it was not written by 'lh2face train --renderer'.");
        IReadOnlyDictionary<string, ImageFidelityResult>? fidelity = null;
        console.Progress().AutoClear(false).Start(context =>
        {
            var task = context.AddTask("rendering canonical faces", maxValue: images.Count);
            fidelity = SynthFaceCanonicalFidelity.Measure(generator, images, resolution, samples =>
            {
                var batch = samples.Select(sample => ToInputSize(sample.ToImage(), model.InputSize)).ToList();
                try
                {
                    return model.Score(batch, CanonicalFaceColumn);
                }
                finally
                {
                    foreach (var image in batch)
                        image.Dispose();
                    task.Increment(samples.Count);
                }
            }, cancellationToken);
        });
        foreach (var (name, result) in fidelity!)
            report.AddImageFidelity($"SynthFace canonical face vs frontal truth ({resolution}px) / {name}", result);
        var all = fidelity![SynthFaceCanonicalFidelity.AllImages];
        var hardNote = fidelity.TryGetValue(nameof(SynthFaceStratum.HardHQ), out var hard)
            ? string.Create(CultureInfo.InvariantCulture, $" (hard-HQ {hard.MeanPsnr:F2} dB)") : "";
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Canonical face vs ground-truth frontal render at {resolution}px: mean PSNR {all.MeanPsnr:F2} dB over {all.Images} test images{hardNote}.")));
    }

    /// <summary>Every scored pair as CSV (identity_a, sample_a, identity_b, sample_b, stratum, kind, score), so a reader can slice the scores by pair kind.</summary>
    private static void WritePairScores(string path, IReadOnlyList<SynthFaceVerificationPair> pairs, float[] scores)
    {
        OutputFile.WriteAtomically(path, temp =>
        {
            using var writer = new StreamWriter(temp);
            writer.WriteLine("identity_a,sample_a,identity_b,sample_b,stratum,kind,score");
            for (int k = 0; k < pairs.Count; k++)
            {
                var p = pairs[k];
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p.IdentityA},{p.SampleA},{p.IdentityB},{p.SampleB},{p.Stratum},{p.Kind},{scores[k]:R}"));
            }
        });
    }

    private static void EvaluateFolder(EvaluateSettings s, IFaceEmbedder embedder, EvaluationReport report, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var folder = new ImageFolderReader(s.DataPath);
        var entries = ImageFiles.KeepDecodable(folder.Entries.Take(s.MaxImages).ToList(), e => e.Path, s.SkipCorrupt, console, new ImagePolicy(embedder.InputSize, s.Resize));
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{entries.Count} images of {entries.Select(e => e.LabelIndex).Distinct().Count()} identities in '{s.DataPath}'{(folder.Entries.Count > entries.Count ? $" (first {entries.Count} of {folder.Entries.Count})" : "")}.")));
        var features = EmbedAll(s.ModelPath, embedder, entries.Count, i => ImageFiles.LoadCrop(entries[i].Path, embedder.InputSize), s.FlipTest, console, "embedding images", cancellationToken);
        var scores = new List<float>();
        var genuine = new List<bool>();
        for (int i = 0; i < entries.Count; i++)
        {
            for (int j = i + 1; j < entries.Count; j++)
            {
                scores.Add(System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(features[i], features[j]));
                genuine.Add(entries[i].LabelIndex == entries[j].LabelIndex);
            }
        }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(s.DataPath));
        report.AddVerification(name + " (all pairs)", VerificationMetrics.Evaluate(scores.ToArray(), genuine.ToArray()));
        var labels = entries.Select(e => e.LabelIndex).ToArray();
        var split = GalleryProbeSplit.Create(labels);
        var normalised = features.Select(f => { var n = (float[])f.Clone(); var norm = System.Numerics.Tensors.TensorPrimitives.Norm(n); System.Numerics.Tensors.TensorPrimitives.Divide(n, norm, n); return n; }).ToArray();
        report.AddIdentification(name + " (1:N)", IdentificationMetrics.Evaluate(
            split.Gallery.Select(i => normalised[i]).ToList(), split.Gallery.Select(i => labels[i]).ToList(),
            split.Probes.Select(i => normalised[i]).ToList(), split.Probes.Select(i => labels[i]).ToList()));
    }
}
