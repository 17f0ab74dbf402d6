using System.Globalization;
using Microsoft.ML.LH2Face.Data.Formats;
using Microsoft.ML.LH2Face.Data.Synthetic;
using Spectre.Console;

namespace LH2Face.Cli;

/// <summary>Formats <c>lh2face generate</c> writes.</summary>
public enum GenerateFormat
{
    /// <summary>The train split as identity/xxxx.png + metadata.csv.</summary>
    Folder,

    /// <summary>The train split as insightface RecordIO (train.rec, train.idx, property).</summary>
    RecordIo,

    /// <summary>The test verification pairs as an insightface .bin (+ .strata.csv).</summary>
    Bin,

    /// <summary>The test templates as an IJB-B layout (meta/, loose_crop/).</summary>
    Ijb,

    /// <summary>A contact sheet PNG: identities x variations.</summary>
    Sheet,
}

/// <summary><c>lh2face generate</c>: writes the SynthFace benchmark in the formats users have.</summary>
public static class GenerateCommand
{
    /// <summary>Runs the command; returns the process exit code (0 ok, 1 error).</summary>
    public static int Run(string output, GenerateFormat format, string preset, IAnsiConsole console, CliErrors? errors = null)
    {
        ArgumentNullException.ThrowIfNull(console);
        try
        {
            var protocol = SynthFaceProtocol.Create(EvaluateCommand.SynthFacePreset(preset));
            var o = protocol.Options;
            int written = 0;
            console.Progress().AutoClear(false).Start(context =>
            {
                switch (format)
                {
                    case GenerateFormat.Folder:
                    {
                        var task = context.AddTask("train images", maxValue: o.TrainIdentities * o.TrainImagesPerIdentity);
                        written = SynthFaceImageFolderWriter.Write(output, new SynthFaceGenerator(protocol.TrainOptions), o.TrainIdentities, o.TrainImagesPerIdentity,
                            progress: new Callback(n => task.Value = n));
                        break;
                    }
                    case GenerateFormat.RecordIo:
                    {
                        var task = context.AddTask("train images", maxValue: o.TrainIdentities * o.TrainImagesPerIdentity);
                        written = SynthFaceExport.WriteRecordIo(output, new SynthFaceGenerator(protocol.TrainOptions), o.TrainIdentities, o.TrainImagesPerIdentity,
                            new Callback(n => task.Value = n));
                        break;
                    }
                    case GenerateFormat.Bin:
                    {
                        var task = context.AddTask("pairs", maxValue: protocol.Pairs.Count);
                        written = SynthFaceExport.WriteVerificationBin(output, protocol, progress: new Callback(n => task.Value = n)).Count;
                        break;
                    }
                    case GenerateFormat.Ijb:
                    {
                        var task = context.AddTask("template images", maxValue: protocol.Templates.Sum(t => t.Samples.Count));
                        written = SynthFaceExport.WriteIjb(output, protocol, IjbVariant.IjbB, new Callback(n => task.Value = n));
                        break;
                    }
                    case GenerateFormat.Sheet:
                        SynthFaceContactSheet.Write(output, new SynthFaceGenerator(protocol.TestOptions), identities: 10, variations: 9);
                        written = 1;
                        break;
                    default:
                        throw new CliException($"Unknown format '{format}'.");
                }
            });
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Wrote {format} ({written} items, SynthFace {preset}) to '{output}'.")));
            return 0;
        }
        catch (Exception e)
        {
            return (errors ?? new CliErrors(console)).Print(e);
        }
    }

    /// <summary>IProgress that runs on the reporting thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class Callback(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
