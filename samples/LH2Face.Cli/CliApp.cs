using System.CommandLine;
using Microsoft.ML.LH2Face;
using Spectre.Console;

namespace LH2Face.Cli;

/// <summary>The command line of <c>lh2face</c>: parses arguments into settings and runs the commands.</summary>
public static class CliApp
{
    /// <summary>The command tree; results and progress go to <paramref name="console"/>, errors to <paramref name="errorConsole"/>.</summary>
    public static RootCommand Create(IAnsiConsole console, IAnsiConsole errorConsole, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Train LH2Face face-embedding models (TorchSharp) and embed images with them (ONNX in ML.NET).");
        var verbose = new Option<bool>("--verbose") { Description = "On an error, also print the .NET stack trace (for bug reports).", Recursive = true };
        root.Options.Add(verbose);
        CliErrors Errors(ParseResult r) => new(errorConsole, r.GetValue(verbose));
        root.Subcommands.Add(Train(console, Errors, cancellationToken));
        root.Subcommands.Add(Embed(console, Errors, cancellationToken));
        root.Subcommands.Add(Evaluate(console, Errors, cancellationToken));
        root.Subcommands.Add(Generate(console, Errors));
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/> with errors on the same console; returns the exit code.</summary>
    public static int Run(string[] args, IAnsiConsole console, CancellationToken cancellationToken)
        => Run(args, console, console, cancellationToken);

    /// <summary>
    /// Parses and runs <paramref name="args"/>; returns the exit code (<see cref="ExitCodes"/>). A command line that does
    /// not parse gives one line per problem on <paramref name="errorConsole"/> and <see cref="ExitCodes.Usage"/>; nothing
    /// escapes as a stack trace.
    /// </summary>
    public static int Run(string[] args, IAnsiConsole console, IAnsiConsole errorConsole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parse = Create(console, errorConsole, cancellationToken).Parse(args);
        var errors = new CliErrors(errorConsole, args.Contains("--verbose"));
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                errors.Line("[red]Error:[/] " + Markup.Escape(error.Message.ReplaceLineEndings(" ")));
            var command = parse.CommandResult.Command is RootCommand ? "" : parse.CommandResult.Command.Name + " ";
            errors.Line(Markup.Escape($"Run 'lh2face {command}--help' for the commands and options."));
            return ExitCodes.Usage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return errors.Print(e);
        }
    }

    private static Command Train(IAnsiConsole console, Func<ParseResult, CliErrors> errors, CancellationToken cancellationToken)
    {
        var d = new TrainSettings { DataFolder = "", OutputPath = "" };
        var data = new Option<string?>("--data") { Description = "Image folder: <data>/<identity>/*.png|jpg|jpeg (the identity is the sub-folder name), or an insightface RecordIO pack (train.rec with train.idx beside it, or their folder). Omitted: the SynthFace small train set is written beside --out and used." };
        var dataLoading = new Option<LH2FaceDataLoading>("--data-loading") { Description = "Auto (cache the images in memory while they fit --max-cache-mb, else stream them), Cache, or Stream (decode each batch's images on background threads; same results as Cache).", DefaultValueFactory = _ => d.DataLoading };
        var maxCache = new Option<long>("--max-cache-mb") { Description = "Most memory, in MB, for cached training pixels at the input size (past it, Auto streams).", DefaultValueFactory = _ => d.MaxCacheMegabytes };
        var loaderThreads = new Option<int>("--loader-threads") { Description = "Threads decoding streamed images (0 = half the processors).", DefaultValueFactory = _ => d.LoaderThreads };
        var output = new Option<string>("--out") { Description = "ML.NET model zip to write.", Required = true };
        var backbone = new Option<LH2FaceBackbone>("--backbone") { Description = "Backbone network (Compact trains on CPUs).", DefaultValueFactory = _ => d.Backbone };
        var inputSize = new Option<int>("--input-size") { Description = "Side of the network input in pixels.", DefaultValueFactory = _ => d.InputSize };
        var embeddingSize = new Option<int>("--embedding-size") { Description = "Embedding dimension.", DefaultValueFactory = _ => d.EmbeddingSize };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data.", DefaultValueFactory = _ => d.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => d.BatchSize };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate (SGD).", DefaultValueFactory = _ => d.LearningRate };
        var preset = new Option<LH2FaceLossPreset>("--preset") { Description = "Loss: LH2Face (the defaults: vMF head at the logit scale sqrt(d), angular margin, kappa ranking so that Quality = ||z|| ranks image quality), LH2FaceLiteral (METHOD.md read literally, with the proxy losses), or the baselines ArcFace, CosFace, AdaFace, MagFace, Softmax.", DefaultValueFactory = _ => d.Preset };
        var head = new Option<LH2FaceHead?>("--head") { Description = "Use this head instead of the preset's, keeping the preset's other loss settings." };
        var device = new Option<LH2FaceDevice>("--device") { Description = "Where to train.", DefaultValueFactory = _ => d.Device };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, data order and augmentation.", DefaultValueFactory = _ => d.Seed };
        var precision = new Option<LH2FacePrecision>("--precision") { Description = "Number format of the backbone's training passes: Float32, or BFloat16 (0.6 of the step time on an AMD EPYC with avx512_bf16, a third less memory; slower without bfloat16 instructions; the model is float32 either way).", DefaultValueFactory = _ => d.Precision };
        var recompute = new Option<bool>("--recompute-activations") { Description = "Keep only each residual block's input in the forward pass and recompute the blocks in the backward pass: the same model with less memory, for one more forward pass of the trunk per step." };
        var nativeHeap = new Option<LH2FaceNativeHeap>("--native-heap") { Description = "The C heap on Linux with glibc: KeepFreed (freed blocks kept for the next step: about 8x faster, higher peak memory) or Unchanged (glibc's defaults or the MALLOC_* environment).", DefaultValueFactory = _ => d.NativeHeap };
        var checkpointDir = new Option<string?>("--checkpoint-dir") { Description = "Folder for checkpoints (written at the end, and every --checkpoint-every steps)." };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also write a checkpoint every this many steps (needs --checkpoint-dir; 0 = at the end only).", DefaultValueFactory = _ => 0 };
        var resume = new Option<string?>("--resume") { Description = "Checkpoint folder of an earlier run (same data and options) to continue from." };
        var onnx = new Option<string?>("--onnx") { Description = "Also export a standalone ONNX model to this file." };
        var renderer = new Option<bool>("--renderer") { Description = "Also train the photo-geometric renderer (reconstruction, canonical face, depth) and write a montage after training." };
        var rendererResolution = new Option<int>("--renderer-resolution") { Description = "Side of the rendered images: a multiple of 16, at most --input-size.", DefaultValueFactory = _ => d.RendererResolution };
        var montage = new Option<string?>("--montage") { Description = "With --renderer: PNG montage to write (input | reconstruction | canonical | depth). Default: beside --out, model.zip -> model.montage.png." };
        var rendererLr = new Option<float>("--renderer-lr") { Description = "Peak learning rate of the renderer's own parameters (Adam, same schedule as --lr).", DefaultValueFactory = _ => d.RendererLearningRate };
        var rendererFov = new Option<float>("--renderer-fov") { Description = "Renderer camera field of view in degrees: sets how deep the face is against its width (smaller = deeper).", DefaultValueFactory = _ => d.RendererFieldOfView };
        var skipCorrupt = new Option<bool>("--skip-corrupt") { Description = "Leave out images that do not decode completely (truncated, empty, not an image) and report how many, instead of stopping at the first." };
        var resize = ResizeOption();
        var logFile = new Option<string?>("--log") { Description = "Also write the trainer's log (settings, loss configuration, each epoch's loss terms) to this text file as training goes." };

        var command = new Command("train", "Train a face-embedding model on an identity folder and save it as an ML.NET model zip.")
        {
            data, output, backbone, inputSize, embeddingSize, epochs, batchSize, lr, preset, head, device, precision, recompute, nativeHeap, dataLoading, maxCache, loaderThreads, seed, checkpointDir, checkpointEvery, resume, onnx, renderer, rendererResolution, rendererLr, rendererFov, montage, logFile, skipCorrupt, resize,
        };
        command.SetAction(r => TrainCommand.Run(new TrainSettings
        {
            DataFolder = r.GetValue(data),
            OutputPath = r.GetValue(output)!,
            Backbone = r.GetValue(backbone),
            InputSize = r.GetValue(inputSize),
            EmbeddingSize = r.GetValue(embeddingSize),
            Epochs = r.GetValue(epochs),
            BatchSize = r.GetValue(batchSize),
            LearningRate = r.GetValue(lr),
            Preset = r.GetValue(preset),
            Head = r.GetValue(head),
            Device = r.GetValue(device),
            Precision = r.GetValue(precision),
            RecomputeActivations = r.GetValue(recompute),
            NativeHeap = r.GetValue(nativeHeap),
            DataLoading = r.GetValue(dataLoading),
            MaxCacheMegabytes = r.GetValue(maxCache),
            LoaderThreads = r.GetValue(loaderThreads),
            Seed = r.GetValue(seed),
            CheckpointDirectory = r.GetValue(checkpointDir),
            CheckpointEveryNSteps = r.GetValue(checkpointEvery),
            ResumeFrom = r.GetValue(resume),
            OnnxPath = r.GetValue(onnx),
            UseRenderer = r.GetValue(renderer),
            RendererResolution = r.GetValue(rendererResolution),
            RendererLearningRate = r.GetValue(rendererLr),
            RendererFieldOfView = r.GetValue(rendererFov),
            MontagePath = r.GetValue(montage),
            LogPath = r.GetValue(logFile),
            SkipCorrupt = r.GetValue(skipCorrupt),
            Resize = r.GetValue(resize),
        }, console, cancellationToken, errors(r)));
        return command;
    }

    private static Command Embed(IAnsiConsole console, Func<ParseResult, CliErrors> errors, CancellationToken cancellationToken)
    {
        var model = new Option<string>("--model") { Description = "model.zip written by 'lh2face train', or an ONNX face model with [N,3,S,S] input (as evaluate takes).", Required = true };
        var images = new Option<string>("--images") { Description = "An image file, or a folder searched recursively for .png/.jpg/.jpeg.", Required = true };
        var output = new Option<string>("--out") { Description = "CSV to write: path,quality,e0,e1,...", Required = true };
        var skipCorrupt = new Option<bool>("--skip-corrupt") { Description = "Leave out images that do not decode completely and report how many, instead of stopping at the first." };
        var resize = ResizeOption();
        var (inputSize, mean, std, bgr) = OnnxInputOptions();
        var command = new Command("embed", "Embed images with a trained model (model.zip or ONNX) and write the embeddings as CSV.") { model, images, output, skipCorrupt, resize, inputSize, mean, std, bgr };
        command.SetAction(r => EmbedCommand.Run(new EmbedSettings
        {
            ModelPath = r.GetValue(model)!,
            ImagesPath = r.GetValue(images)!,
            OutputPath = r.GetValue(output)!,
            SkipCorrupt = r.GetValue(skipCorrupt),
            Resize = r.GetValue(resize),
            InputSize = r.GetValue(inputSize),
            Mean = r.GetValue(mean),
            Std = r.GetValue(std),
            Bgr = r.GetValue(bgr),
        }, console, cancellationToken, errors(r)));
        return command;
    }

    private static Command Evaluate(IAnsiConsole console, Func<ParseResult, CliErrors> errors, CancellationToken cancellationToken)
    {
        var model = new Option<string>("--model") { Description = "model.zip written by 'lh2face train', or any ONNX face model with [N,3,S,S] input.", Required = true };
        var data = new Option<string>("--data") { Description = "A verification .bin, an IJB-B/IJB-C root (meta/, loose_crop/), an identity folder, or the SynthFace preset (small, full, tiny).", Required = true };
        var protocol = new Option<EvaluationProtocol>("--protocol") { Description = "Bin, IjbB, IjbC, Folder or SynthFace.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for report.md, report.json and the plots.", Required = true };
        var noFlip = new Option<bool>("--no-flip") { Description = "Embed images without adding the mirrored image's embedding." };
        var (inputSize, mean, std, bgr) = OnnxInputOptions();
        var maxImages = new Option<int>("--max-images") { Description = "Folder protocol: at most this many images.", DefaultValueFactory = _ => 2000 };
        var skipCorrupt = new Option<bool>("--skip-corrupt") { Description = "Leave out images (Folder) or pairs (Bin) that do not decode completely and report how many, instead of stopping at the first." };
        var resize = ResizeOption();
        var command = new Command("evaluate", "Run a verification or identification protocol on a model and write a report (markdown, JSON, plots).")
        {
            model, data, protocol, output, noFlip, inputSize, mean, std, bgr, maxImages, skipCorrupt, resize,
        };
        command.SetAction(r => EvaluateCommand.Run(new EvaluateSettings
        {
            ModelPath = r.GetValue(model)!,
            DataPath = r.GetValue(data)!,
            Protocol = r.GetValue(protocol),
            OutputDirectory = r.GetValue(output)!,
            FlipTest = !r.GetValue(noFlip),
            InputSize = r.GetValue(inputSize),
            Mean = r.GetValue(mean),
            Std = r.GetValue(std),
            Bgr = r.GetValue(bgr),
            MaxImages = r.GetValue(maxImages),
            SkipCorrupt = r.GetValue(skipCorrupt),
            Resize = r.GetValue(resize),
        }, console, cancellationToken, errors(r)));
        return command;
    }

    private static Command Generate(IAnsiConsole console, Func<ParseResult, CliErrors> errors)
    {
        var output = new Option<string>("--out") { Description = "Folder (Folder, RecordIo, Ijb) or file (Bin, Sheet) to write.", Required = true };
        var format = new Option<GenerateFormat>("--format") { Description = "Folder, RecordIo, Bin, Ijb or Sheet.", DefaultValueFactory = _ => GenerateFormat.Folder };
        var preset = new Option<string>("--preset") { Description = "SynthFace protocol size: small, full or tiny.", DefaultValueFactory = _ => "small" };
        var command = new Command("generate", "Write the SynthFace benchmark: train set (Folder, RecordIo), test pairs (Bin), templates (Ijb) or a contact sheet.")
        {
            output, format, preset,
        };
        command.SetAction(r => GenerateCommand.Run(r.GetValue(output)!, r.GetValue(format), r.GetValue(preset)!, console, errors(r)));
        return command;
    }

    /// <summary>--resize, the same in train, embed and evaluate (see <see cref="ImagePolicy"/>).</summary>
    private static Option<bool> ResizeOption() => new("--resize")
    {
        Description = "Stretch every image to the model input size. Without it, face crops of another size are resized and images that look like photos (far from square, or over 4x the input side) are refused.",
    };

    /// <summary>The input convention of ONNX models from elsewhere (embed and evaluate); graphs exported by this library carry theirs in metadata.</summary>
    private static (Option<int> InputSize, Option<float> Mean, Option<float> Std, Option<bool> Bgr) OnnxInputOptions() => (
        new("--input-size") { Description = "ONNX models without LH2Face metadata: input side in pixels.", DefaultValueFactory = _ => 112 },
        new("--mean") { Description = "ONNX models without LH2Face metadata: normalisation (x - mean) / std.", DefaultValueFactory = _ => 127.5f },
        new("--std") { Description = "ONNX models without LH2Face metadata: normalisation (x - mean) / std.", DefaultValueFactory = _ => 127.5f },
        new("--bgr") { Description = "ONNX models without LH2Face metadata: feed BGR instead of RGB." });
}
