using Spectre.Console;

namespace LH2Face.Cli;

internal static class Errors
{
    /// <summary>Prints one red line with the message (no stack trace) and returns exit code 1.</summary>
    public static int Print(IAnsiConsole console, Exception e)
    {
        // ArgumentException appends " (Parameter 'x')" to Message; the library's messages already name the option.
        var message = e is ArgumentException { ParamName: not null } a && a.Message.EndsWith($" (Parameter '{a.ParamName}')", StringComparison.Ordinal)
            ? a.Message[..^$" (Parameter '{a.ParamName}')".Length]
            : e.Message;
        var line = "Error: " + message.ReplaceLineEndings(" ");
        // Spectre wraps at the profile width (80 columns when output is redirected): widen it so the
        // message stays one line for logs and scripts; a terminal still wraps it visually.
        var width = console.Profile.Width;
        console.Profile.Width = Math.Max(width, line.Length + 1);
        try
        {
            console.MarkupLine($"[red]Error:[/] {Markup.Escape(line["Error: ".Length..])}");
        }
        finally
        {
            console.Profile.Width = width;
        }
        return 1;
    }
}
