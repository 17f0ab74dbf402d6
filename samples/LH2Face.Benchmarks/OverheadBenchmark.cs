using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Synthetic;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Settings;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace LH2Face.Benchmarks;

/// <summary>
/// The trainer's overhead (issue 15, item 4): the same network, loss, optimiser settings and batches run through the
/// trainer (TrainingSession, with its step-timing hook) and through a bare TorchSharp loop on batches copied into tensors
/// before timing, in interleaved rounds whose order alternates (trainer then bare, bare then trainer, ...) after a short
/// warm-up of each. The bare loop calls
/// the same FaceNetwork, FaceLoss, kappa-ranking copies and OptimizerSet (SGD or AdamW with the same groups, clipping and
/// learning rate per step) and reseeds per step as the trainer does, so it computes the same losses (checked, bit for bit)
/// without the trainer's batch loader, .item() reads, epoch tracker, checkpoint test and progress. Both run each step in
/// the no-GC region the trainer uses (CollectorPause: TorchSharp 0.107 can free a Scalar under native code otherwise), and
/// under the C heap policy the trainer sets (GlibcHeap KeepFreed, or --native-heap Unchanged), applied first. The data is SynthFace's small train
/// split (200 identities x 20 images at 112 px, area-resized to the input size), generated in memory. img/s is images over
/// the step loop's wall time (the sum of the steps' wall times; the trainer's setup, convolution check and final checks
/// are reported apart); the ratio is the median over rounds of trainer / bare within the round.
/// </summary>
internal static class OverheadBenchmark
{
    /// <summary>One round of one path: whether it ran first in its round, images per second over the step loop, (trainer) the whole Run's wall time, the process's CPU time.</summary>
    private sealed record Round(string Path, int Index, bool RanFirst, double LoopSeconds, double ImagesPerSecond, double RunSeconds, double CpuSeconds, StepTiming[] Steps);

    private sealed record Split(double LoaderWait, double PixelCopy, double Copies, double Forward, double Bookkeeping, double Backward, double Optimizer, double Other, double Total);

    private sealed record Report(
        string Command, string Backbone, int InputSize, int EmbeddingSize, int Batch, int Identities, int Images, int Steps, int Rounds, int WarmupSteps,
        int Threads, string Preset, int Copies, int Seed, int ProcessorCount, string HeapPolicy, string LoadAverageBefore, string LoadAverageAfter, double LoaderFillMs,
        double MedianRatio, double[] RoundRatios, double TrainerMedianImagesPerSecond, double BareMedianImagesPerSecond, bool LossesIdentical,
        double MaxLossDifference, Split TrainerMedianMs, Split BareMedianMs, Round[] RoundsMeasured, Round[] WarmupRounds, string[] TrainerLog);

    public static int Run(ReadOnlySpan<string> args, string command)
    {
        var backbone = LH2FaceBackbone.Compact;
        var preset = LH2FaceLossPreset.LH2Face;
        int size = 112, embedding = 512, batch = 128, identities = 200, images = 4000, steps = 20, rounds = 3, warmupSteps = 3, threads = 1, seed = 42;
        string? outFile = null;
        string path = "both";
        var nativeHeap = LH2FaceNativeHeap.KeepFreed;
        var precision = LH2FacePrecision.Float32;
        bool recompute = false;
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
                throw new ArgumentException($"Option '{args[i]}' needs a value.");
            string v = args[i + 1];
            switch (args[i])
            {
                case "--backbone": backbone = Enum.Parse<LH2FaceBackbone>(v, ignoreCase: true); break;
                case "--input-size": size = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--embedding-size": embedding = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--identities": identities = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--images": images = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--steps": steps = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--warmup-steps": warmupSteps = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--preset": preset = Enum.Parse<LH2FaceLossPreset>(v, ignoreCase: true); break;
                case "--out": outFile = v; break;
                case "--native-heap": nativeHeap = Enum.Parse<LH2FaceNativeHeap>(v, ignoreCase: true); break;
                case "--path": path = v is "trainer" or "bare" or "both" ? v : throw new ArgumentException($"--path is '{v}': use trainer, bare or both."); break;
                case "--precision": precision = Enum.Parse<LH2FacePrecision>(v, ignoreCase: true); break;
                case "--recompute-activations": recompute = bool.Parse(v); break;
                case "--trace-memory": tracing = bool.Parse(v); break;
                case "--recompute-stem": bareRecomputesStem = bool.Parse(v); break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}': use --backbone, --input-size, --embedding-size, --batch, --identities, --images, --steps, " +
                        "--rounds, --warmup-steps, --threads, --seed, --preset, --native-heap, --precision, --recompute-activations (true/false), --trace-memory (true/false), --recompute-stem (true/false, the bare loop only), --path or --out.");
            }
        }
        if (images < batch || identities < 2 || identities > images)
            throw new ArgumentException($"--images ({images}) must be at least --batch ({batch}), and --identities ({identities}) between 2 and --images.");
        if (steps < 1 || rounds < 1 || warmupSteps < 1)
            throw new ArgumentException("--steps, --rounds and --warmup-steps must be at least 1.");

        // Before libtorch allocates anything, as TrainingSession.Run does; the trainer's own call then finds it applied.
        string heap = GlibcHeap.Apply(nativeHeap);
        string loadBefore = LoadAverage();
        var options = LH2FaceTrainer.Options.FromPreset(preset);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        options.Backbone = backbone;
        options.InputSize = size;
        options.EmbeddingSize = embedding;
        options.BatchSize = batch;
        options.Seed = seed;
        options.Device = LH2FaceDevice.Cpu;
        options.NativeHeap = nativeHeap;
        options.Precision = precision;
        options.RecomputeActivations = recompute;
        var settings = InputValidation.CheckOptions(options);
        if (settings.Renderer is not null)
            throw new ArgumentException("The bare loop has no renderer: use a preset without it.");

        var clock = Stopwatch.StartNew();
        var train = Data(size, identities, images);
        set_num_threads(threads);
        int copies = settings.Loss.KappaRanking.Copies(batch);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"overhead: {backbone} at {size} px, {embedding}-d, preset {preset} ({copies} kappa-ranking copies per batch), {precision}{(recompute ? ", activations recomputed" : "")}, batch {batch}, SynthFace small train split " +
            $"{identities} x {images / identities} = {train.Count} images {train.Describe()} (made in {clock.Elapsed.TotalSeconds:F0} s), {steps} steps x {rounds} rounds per path after " +
            $"{warmupSteps} warm-up steps each, {get_num_threads()} torch thread(s), {Environment.ProcessorCount} core(s), load average {loadBefore}"));
        Console.WriteLine(heap);

        if (path != "both")
            return OnePath(path, settings, train, batch, steps, rounds, warmupSteps);

        var batches = PreparedBatches(train, settings, batch, steps);
        double loaderFill = LoaderFillMs(train, settings, batch);
        var trainerLog = new List<string>();
        var measured = new List<Round>();
        var warmup = new List<Round>();
        List<float> trainerLosses = new(), bareLosses = new();
        try
        {
            for (int round = 0; round <= rounds; round++)
            {
                int n = round == 0 ? Math.Min(warmupSteps, steps) : steps;
                // The order alternates (trainer first in odd rounds and the warm-up, bare first in even ones), so a drift
                // in the machine's load or in the process's heap does not always favour the same path.
                bool trainerFirst = round == 0 || round % 2 == 1;
                trainerLog.Clear();
                Round a, b;
                float[] losses;
                if (trainerFirst)
                {
                    a = TrainerRound(settings, train, n, round, trainerFirst, trainerLog);
                    b = BareRound(settings, train.Count, train.ClassCount, batches, batch, n, round, !trainerFirst, out losses);
                }
                else
                {
                    b = BareRound(settings, train.Count, train.ClassCount, batches, batch, n, round, !trainerFirst, out losses);
                    a = TrainerRound(settings, train, n, round, trainerFirst, trainerLog);
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {round}{(round == 0 ? " (warm-up)" : "")}, {(trainerFirst ? "trainer" : "bare")} first: trainer {a.ImagesPerSecond:F1} img/s (loop {a.LoopSeconds:F1} s, Run {a.RunSeconds:F1} s), " +
                    $"bare {b.ImagesPerSecond:F1} img/s (loop {b.LoopSeconds:F1} s), ratio {a.ImagesPerSecond / b.ImagesPerSecond:F3}; process CPU trainer {a.CpuSeconds:F1} s, bare {b.CpuSeconds:F1} s"));
                if (round == 0)
                {
                    warmup.Add(a);
                    warmup.Add(b);
                    continue;
                }
                measured.Add(a);
                measured.Add(b);
                trainerLosses.AddRange(a.Steps.Select(s => s.Loss));
                bareLosses.AddRange(losses);
            }
        }
        finally
        {
            foreach (var (pixels, labels) in batches)
            {
                pixels.Dispose();
                labels.Dispose();
            }
        }

        var trainerRounds = measured.Where(r => r.Path == "trainer").ToList();
        var bareRounds = measured.Where(r => r.Path == "bare").ToList();
        var ratios = trainerRounds.Select((r, i) => r.ImagesPerSecond / bareRounds[i].ImagesPerSecond).ToArray();
        // Every round starts from the same seed, so every round of both paths computes the same losses.
        double maxDifference = trainerLosses.Zip(bareLosses, (x, y) => Math.Abs((double)x - y)).Max();
        bool identical = trainerLosses.SequenceEqual(bareLosses);
        var trainerSplit = MedianSplit(trainerRounds);
        var bareSplit = MedianSplit(bareRounds);
        string loadAfter = LoadAverage();

        Console.WriteLine();
        Console.WriteLine($"{"round",5} {"trainer img/s",14} {"bare img/s",11} {"ratio",6} {"trainer CPU s",14} {"bare CPU s",11}");
        for (int i = 0; i < ratios.Length; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,5} {trainerRounds[i].ImagesPerSecond,14:F1} {bareRounds[i].ImagesPerSecond,11:F1} {ratios[i],6:F3} {trainerRounds[i].CpuSeconds,14:F1} {bareRounds[i].CpuSeconds,11:F1}"));
        double median = Statistics.Median(ratios);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median ratio trainer / bare: {median:F3} (target >= 0.9: {(median >= 0.9 ? "met" : "not met")}); the same losses at every step: " +
            $"{(identical ? "yes, bit for bit" : $"no, largest difference {maxDifference:G3}")}"));
        Console.WriteLine();
        Console.WriteLine("ms per step: median over every timed step of every round (and the mean)");
        Console.WriteLine($"{"path",-8} {"loader",7} {"pixels",7} {"copies",7} {"forward",8} {"bookkeep",8} {"backward",8} {"optim",7} {"other",7} {"total",8}");
        PrintSplit("trainer", trainerSplit);
        PrintSplit("(mean)", MeanSplit(trainerRounds));
        PrintSplit("bare", bareSplit);
        PrintSplit("(mean)", MeanSplit(bareRounds));
        PrintSplit("warm-up", MedianSplit(warmup.Where(r => r.Path == "trainer").ToList()));
        Console.WriteLine("(loader: waiting for the batch producer; pixels: the batch into tensors; copies: the kappa-ranking degraded copies; bookkeep: .item() reads,");
        Console.WriteLine(" terms dictionary, epoch tracker, progress; optim: zero_grad, clip, step; other: reseed, learning rate, no-GC region, freeing the step's tensors;");
        Console.WriteLine(" warm-up: the trainer's steps in round 0, the first steps of the process, not counted above)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trainer setup and final checks outside the step loop (Run minus loop): median {Statistics.Median(trainerRounds.Select(r => r.RunSeconds - r.LoopSeconds)):F2} s per run; " +
            $"the batch producer fills a batch in {loaderFill:F1} ms (one thread, beside the training thread); load average at the end {loadAfter}"));

        if (outFile is not null)
        {
            var report = new Report(command, backbone.ToString(), size, embedding, batch, identities, train.Count, steps, rounds, warmupSteps, get_num_threads(), preset.ToString(),
                copies, seed, Environment.ProcessorCount, heap, loadBefore, loadAfter, loaderFill, median, ratios, Statistics.Median(trainerRounds.Select(r => r.ImagesPerSecond)),
                Statistics.Median(bareRounds.Select(r => r.ImagesPerSecond)), identical, maxDifference, trainerSplit, bareSplit, measured.ToArray(), warmup.ToArray(), trainerLog.ToArray());
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
            File.WriteAllText(outFile, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {outFile}");
        }
        return 0;
    }

    /// <summary>
    /// The train split of SynthFace small (the main job's data) for the first identities, as the trainer holds images: the
    /// area-resized pixels are rounded to whole 0..255 values, as decoded image files are, so the trainer caches them as
    /// bytes (a user's image folder: 38 KB per image at 112 px) rather than as floats (150 KB), and the cache the
    /// benchmark measures is the one a user's process holds.
    /// </summary>
    internal static FaceImageSet Data(int size, int identities, int images)
    {
        var protocolOptions = SynthFaceProtocolOptions.Small();
        var generator = new SynthFaceGenerator(SynthFaceProtocol.Create(protocolOptions).TrainOptions);
        var rows = PixelRow.Generate(generator, images, k => (k % identities, k / identities), size);
        foreach (var row in rows)
        {
            var pixels = row.Pixels;
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = Math.Clamp(MathF.Round(pixels[i]), 0f, 255f);
        }
        var ml = new MLContext(seed: 1);
        var set = FaceImageSet.Load(PixelRow.LoadKeyed(ml, rows, size), "Label", nameof(PixelRow.Pixels), size, long.MaxValue, "SynthFace", CancellationToken.None);
        // The generated float rows stayed reachable after loading (a weak reference to them was alive at the first step:
        // 0.58 GiB of the 0.9 GiB each path started training from); the trainer holds its own copy, so they go now.
        foreach (var row in rows)
            row.Pixels = [];
        if (set.ClassCount != identities)
            throw new InvalidOperationException($"Expected {identities} identities, found {set.ClassCount}.");
        return set;
    }

    /// <summary>
    /// One path alone (--path trainer|bare), for the peak memory of a process that runs only it (<see cref="OverheadMemory"/>
    /// starts one such process per path): the warm-up and the rounds, then the median img/s and the process's peak resident
    /// memory (VmHWM) on a line of its own, "peak-rss-kib N". The bare path holds its prepared batches, as the timed
    /// comparison does; the trainer path prepares none.
    /// </summary>
    private static int OnePath(string path, TrainerSettings settings, FaceImageSet train, int batch, int steps, int rounds, int warmupSteps)
    {
        var batches = path == "bare" ? PreparedBatches(train, settings, batch, steps) : new List<(Tensor Pixels, Tensor Labels)>();
        long dataPeak = PeakResidentKib();
        bool reset = RestartPeakCount();
        long startKib = ResidentKib("VmRSS:");
        var gc = GC.GetGCMemoryInfo();
        string startParts = string.Create(CultureInfo.InvariantCulture,
            $"anonymous {ResidentKib("RssAnon:") / 1048576.0:F2} GiB, file-backed {ResidentKib("RssFile:") / 1048576.0:F2} GiB, .NET GC committed {gc.TotalCommittedBytes / 1073741824.0:F2} GiB, heap {gc.HeapSizeBytes / 1073741824.0:F2} GiB, fragmented {gc.FragmentedBytes / 1073741824.0:F2} GiB");
        var speeds = new List<double>();
        try
        {
            for (int round = 0; round <= rounds; round++)
            {
                int n = round == 0 ? Math.Min(warmupSteps, steps) : steps;
                var result = path == "trainer"
                    ? TrainerRound(settings, train, n, round, first: true, new List<string>())
                    : BareRound(settings, train.Count, train.ClassCount, batches, batch, n, round, first: true, out _);
                if (round > 0)
                    speeds.Add(result.ImagesPerSecond);
            }
        }
        finally
        {
            foreach (var (pixels, labels) in batches)
            {
                pixels.Dispose();
                labels.Dispose();
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"path {path}: median {Statistics.Median(speeds):F1} img/s over {rounds} rounds of {steps} steps"));
        // The data's peak: SynthFace generation in this process (float rows and the generator's garbage, gone before training).
        Console.WriteLine($"data-peak-rss-kib {dataPeak}");
        Console.WriteLine($"start-rss-kib {startKib}"); // resident when the count restarted: the runtime, the data, the network
        Console.WriteLine($"start-rss-parts {startParts}");
        Console.WriteLine($"peak-rss-kib {PeakResidentKib()}");
        Console.WriteLine(reset ? "peak-rss-from training (the count restarted after the data was made and collected)" : "peak-rss-from process (the peak count could not be restarted: it includes making the data)");
        return 0;
    }

    /// <summary>
    /// Makes the peak that follows that of training: a blocking, compacting full collection (the large-object heap
    /// included) releases what making the data left behind (the generator's float rows, about 600 MB for 4000 images at
    /// 112 px, collected only by a full collection), then writing 5 to /proc/self/clear_refs restarts the kernel's VmHWM at
    /// the current resident size. The data the trainer holds stays resident and counted. False where the count cannot be
    /// restarted (no /proc, or a kernel before 4.0): the peak is then the process's.
    /// </summary>
    public static bool RestartPeakCount()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        // Aggressive also hands the freed regions back to the system (a forced collection keeps them for reuse).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The process's peak resident memory (VmHWM in /proc/self/status), in KiB; -1 where /proc is missing.</summary>
    public static long PeakResidentKib() => ResidentKib("VmHWM:");

    /// <summary>A field of /proc/self/status in KiB (VmHWM:, VmRSS:); -1 where /proc is missing.</summary>
    private static long ResidentKib(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
            return -1;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>The batches the trainer's loader gives for the first <paramref name="steps"/> steps (same order and flips), copied into tensors.</summary>
    private static List<(Tensor Pixels, Tensor Labels)> PreparedBatches(FaceImageSet train, TrainerSettings settings, int batch, int steps)
    {
        int side = settings.Backbone.InputSize;
        var batches = new List<(Tensor, Tensor)>();
        using var loader = new BatchLoader(train, batch, settings.Run.Seed, settings.Run.RandomHorizontalFlip, 0, steps, CancellationToken.None);
        for (int s = 0; s < steps; s++)
        {
            var next = loader.Next();
            batches.Add((next.PixelTensor(batch, side), tensor(next.Labels)));
            loader.Release(next);
        }
        return batches;
    }

    /// <summary>A whole trainer run of <paramref name="steps"/> steps (MaxSteps), timed by its step hook.</summary>
    private static Round TrainerRound(TrainerSettings settings, FaceImageSet train, int steps, int index, bool first, List<string> log)
    {
        var runSettings = settings with { Schedule = settings.Schedule with { MaxSteps = steps } };
        var timings = new List<StepTiming>(steps);
        var cpu = ProcessCpu();
        var clock = Stopwatch.StartNew();
        var result = new TrainingSession(runSettings, train, null, log.Add) { StepTimings = timings.Add }.Run();
        double runSeconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (ProcessCpu() - cpu).TotalSeconds;
        result.Network.Dispose();
        double loop = timings.Sum(t => t.Total) / 1000;
        return new Round("trainer", index, first, loop, steps * runSettings.Schedule.BatchSize / loop, runSeconds, cpuSeconds, timings.ToArray());
    }

    /// <summary>
    /// The bare loop: what TrainingSession.TrainStep computes, on prepared tensors, without reading anything back; the
    /// losses are kept as tensors and read after the loop.
    /// </summary>
    private static Round BareRound(TrainerSettings settings, int imageCount, int classCount, List<(Tensor Pixels, Tensor Labels)> batches, int batchSize, int steps, int index, bool first, out float[] losses)
    {
        int seed = settings.Run.Seed;
        random.manual_seed(seed);
        using var network = new FaceNetwork(settings.Network, classCount);
        network.TrainingPrecision = settings.Run.Precision;
        network.RecomputeActivations = settings.Run.RecomputeActivations;
        network.RecomputeStem = bareRecomputesStem; // as TrainingSession does, unless --recompute-stem false
        // The trainer's convolution routes (results cached per process: no check runs again).
        network.RecordConvolutionSizes(settings.Backbone.InputSize, CPU);
        Trace("network made");
        network.CheckConvolutions(CPU);
        Trace("convolutions checked");
        using var optimizers = new OptimizerSet(settings.Schedule, settings.Loss.Proxies, settings.Renderer, network);
        var faceLoss = new FaceLoss(settings.Loss);
        var schedule = new LearningRateSchedule(settings.Schedule, BatchLoader.StepsPerEpochFor(imageCount, batchSize));
        var ranking = settings.Loss.KappaRanking;
        int copies = ranking.Copies(batchSize);
        var lossTensors = new Tensor[steps];
        var timer = new StepClock();
        var timings = new StepTiming[steps];
        network.train();
        var cpu = ProcessCpu();
        for (int step = 0; step < steps; step++)
        {
            timer.Start();
            using (CollectorPause.Start())
            using (var scope = NewDisposeScope())
            {
                optimizers.SetLearningRate(schedule.At(step));
                random.manual_seed(unchecked(seed * 1_000_003L + step));
                timer.Lap(StepPhase.Other);
                var (pixels, labels) = batches[step];
                Trace("step start");
                timer.Lap(StepPhase.PixelCopy);
                var batchAndCopies = copies == 0 ? pixels : cat(new[] { pixels, KappaRanking.Degrade(pixels.narrow(0, 0, copies)) }, 0);
                timer.Lap(StepPhase.Copies);
                var features = copies > 0 && !ranking.TrainsBackbone ? network.FeaturesDetachingCopies(batchAndCopies, copies) : network.Features(batchAndCopies);
                var z = copies == 0 ? features : features.narrow(0, 0, batchSize);
                var (embedding, norm) = FaceNetwork.Split(z);
                var loss = faceLoss.Compute(network.Head, embedding, norm, labels).Total;
                if (copies > 0 && ranking.Weight > 0)
                {
                    var sourceNorms = norm.narrow(0, 0, copies);
                    loss = loss + ranking.Weight * KappaRanking.Loss(ranking.TrainsBackbone ? sourceNorms : sourceNorms.detach(),
                        features.narrow(0, batchSize, copies).norm(1, keepdim: true), ranking.Margin);
                }
                if (copies > 0 && ranking.ConsistencyWeight > 0)
                    loss = loss + ranking.ConsistencyWeight * KappaRanking.Consistency(z.narrow(0, 0, copies), features.narrow(0, batchSize, copies));
                Trace("forward");
                timer.Lap(StepPhase.Forward);
                optimizers.ZeroGrad();
                timer.Lap(StepPhase.Optimizer);
                loss.backward();
                Trace("loss backward");
                network.BackwardRecomputed();
                Trace("recomputed backward");
                timer.Lap(StepPhase.Backward);
                optimizers.ClipAndStep();
                Trace("step");
                timer.Lap(StepPhase.Optimizer);
                lossTensors[step] = loss.detach().DetachFromDisposeScope();
            }
            timer.Lap(StepPhase.Other);
            timings[step] = timer.Finish(step + 1, float.NaN);
        }
        double cpuSeconds = (ProcessCpu() - cpu).TotalSeconds;
        var read = lossTensors.Select(t => t.item<float>()).ToArray();
        foreach (var t in lossTensors)
            t.Dispose();
        losses = read;
        timings = timings.Select((t, i) => t with { Loss = read[i] }).ToArray();
        double loop = timings.Sum(t => t.Total) / 1000;
        return new Round("bare", index, first, loop, steps * batchSize / loop, loop, cpuSeconds, timings);
    }

    /// <summary>--trace-memory true: the bare loop prints the resident memory and its peak at each phase of a step.</summary>
    private static bool tracing;

    /// <summary>--recompute-stem false: the bare loop keeps the stem's activations (the trainer always recomputes the stem), to measure what that costs and saves.</summary>
    private static bool bareRecomputesStem = true;

    private static void Trace(string what)
    {
        if (tracing)
            Console.WriteLine($"trace {what}: rss {ResidentKib("VmRSS:") / 1048576.0:F2} hwm {ResidentKib("VmHWM:") / 1048576.0:F2} GiB");
    }

    private static Split MedianSplit(List<Round> rounds)
    {
        var steps = rounds.SelectMany(r => r.Steps).ToList();
        double M(Func<StepTiming, double> f) => Statistics.Median(steps.Select(f));
        return new Split(M(t => t.LoaderWait), M(t => t.PixelCopy), M(t => t.Copies), M(t => t.Forward), M(t => t.Bookkeeping), M(t => t.Backward), M(t => t.Optimizer), M(t => t.Other), M(t => t.Total));
    }

    private static Split MeanSplit(List<Round> rounds)
    {
        var steps = rounds.SelectMany(r => r.Steps).ToList();
        double M(Func<StepTiming, double> f) => steps.Average(f);
        return new Split(M(t => t.LoaderWait), M(t => t.PixelCopy), M(t => t.Copies), M(t => t.Forward), M(t => t.Bookkeeping), M(t => t.Backward), M(t => t.Optimizer), M(t => t.Other), M(t => t.Total));
    }

    private static void PrintSplit(string name, Split s)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-8} {s.LoaderWait,7:F1} {s.PixelCopy,7:F1} {s.Copies,7:F1} {s.Forward,8:F1} {s.Bookkeeping,8:F1} {s.Backward,8:F1} {s.Optimizer,7:F1} {s.Other,7:F1} {s.Total,8:F1}"));

    /// <summary>CPU time of every thread of the process so far (the trainer's batch producer included).</summary>
    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>
    /// What the trainer's batch producer spends per batch (one thread, median of 5): the loader's copy of each image into
    /// the float batch buffer, with its flip. It runs beside the training thread; on a machine with no idle core it takes
    /// time from it.
    /// </summary>
    private static double LoaderFillMs(FaceImageSet train, TrainerSettings settings, int batch)
    {
        var buffer = new float[batch * train.PixelsPerImage];
        var order = BatchLoader.EpochOrder(train.Count, settings.Run.Seed, 0);
        var times = new List<double>();
        for (int run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < batch; i++)
            {
                int position = run * batch + i;
                train.CopyImage(order[position % order.Length], buffer.AsSpan(i * train.PixelsPerImage, train.PixelsPerImage),
                    settings.Run.RandomHorizontalFlip && BatchLoader.FlipAt(settings.Run.Seed, 0, position));
            }
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Statistics.Median(times);
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
