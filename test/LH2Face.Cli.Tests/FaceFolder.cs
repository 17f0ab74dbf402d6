using Spectre.Console;

namespace LH2Face.Cli.Tests;

/// <summary>Generated face-like images on disk and a console that records what the commands print.</summary>
internal static class FaceFolder
{
    /// <summary>Writes root/idNNN/NNN.png with the tests' generated data set (BlobFaces); returns the image paths.</summary>
    public static List<string> Write(string root, int identities, int samples, int size, int seed = 3)
        => Microsoft.ML.LH2Face.Testing.BlobFaces.Write(root, identities, samples, size, seed);

    /// <summary>A plain, wide, non-interactive console writing into <paramref name="output"/>.</summary>
    public static IAnsiConsole Console(StringWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 400;
        return console;
    }
}
