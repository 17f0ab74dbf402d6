using Microsoft.ML;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace LH2Face.Benchmarks;

/// <summary>
/// Training step time with the renderer on, relative to off (issue #6, item 7): the same SynthFace
/// images, backbone and batch, trained through the public trainer for a few steps in each mode,
/// alternating modes; the step time of each step is batch / ImagesPerSecond from the progress
/// callback; the first steps of each run are warm-up and not counted; medians are reported.
/// </summary>
internal static class RendererCostBenchmark
{
    private sealed class StepTimes(List<double> seconds, int batch, int warmup) : IProgress<LH2FaceProgress>
    {
        public void Report(LH2FaceProgress value)
        {
            if (value.Step > warmup)
                seconds.Add(batch / value.ImagesPerSecond);
        }
    }

    public static int Run(ReadOnlySpan<string> args)
    {
        int size = 64, resolution = 64, batch = 32, steps = 10, runs = 2, warmup = 2, identities = 16;
        var backbone = LH2FaceBackbone.Compact;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--size": size = int.Parse(v); break;
                case "--resolution": resolution = int.Parse(v); break;
                case "--batch": batch = int.Parse(v); break;
                case "--steps": steps = int.Parse(v); break;
                case "--runs": runs = int.Parse(v); break;
                case "--backbone": backbone = Enum.Parse<LH2FaceBackbone>(v, ignoreCase: true); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}': use --size, --resolution, --batch, --steps, --runs or --backbone.");
            }
        }
        if (steps <= warmup)
            throw new ArgumentException($"--steps must be more than the {warmup} warm-up steps.");

        var ml = new MLContext(seed: 1);
        var data = Data(ml, size, identities, batch);
        var times = new Dictionary<bool, List<double>> { [false] = new(), [true] = new() };
        for (int run = 0; run < runs; run++)
        {
            foreach (bool renderer in new[] { false, true })
            {
                var options = new LH2FaceTrainer.Options
                {
                    ImageColumnName = nameof(PixelRow.Pixels),
                    Backbone = backbone,
                    InputSize = size,
                    EmbeddingSize = 128,
                    BatchSize = batch,
                    Epochs = 1000,
                    MaxSteps = steps,
                    Device = LH2FaceDevice.Cpu,
                    UseRenderer = renderer,
                    RendererResolution = resolution,
                    Progress = new StepTimes(times[renderer], batch, warmup),
                };
                using var model = ml.Transforms.LH2Face(options).Fit(data);
            }
        }
        double off = Statistics.Median(times[false]), on = Statistics.Median(times[true]);
        Console.WriteLine($"renderer cost: {backbone} at {size}px, renderer {resolution}px, batch {batch}, {runs} run(s) x {steps - warmup} timed steps per mode, {Environment.ProcessorCount} core(s)");
        Console.WriteLine($"median step time: off {off * 1000:F0} ms, on {on * 1000:F0} ms; ratio on/off {on / off:F2}");
        return 0;
    }

    private static IDataView Data(MLContext ml, int size, int identities, int batch)
    {
        var generator = new SynthFaceGenerator(new SynthFaceOptions { ImageSize = size });
        var rows = new List<PixelRow>();
        int perIdentity = Math.Max(2, (2 * batch + identities - 1) / identities);
        for (int s = 0; s < perIdentity; s++)
        {
            for (int id = 0; id < identities; id++)
            {
                rows.Add(new PixelRow { Identity = $"id{id}", Pixels = ImageFidelity.ToPlanar(generator.Generate(id, s).Rgb, size) });
            }
        }
        return PixelRow.LoadKeyed(ml, rows, size);
    }
}
