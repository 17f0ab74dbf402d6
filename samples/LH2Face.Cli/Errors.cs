using Spectre.Console;

namespace LH2Face.Cli;

/// <summary>The exit codes of <c>lh2face</c> (README "Command line: exit codes").</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>Bad input (a file, folder, model or option value) or a failure while working (e.g. training diverged); one line on stderr says which.</summary>
    public const int Failure = 1;

    /// <summary>The command line itself is wrong: unknown command or option, a missing required option, a value of the wrong type.</summary>
    public const int Usage = 2;

    /// <summary>Stopped by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}

/// <summary>
/// Where a command's errors and cancellation notices go (stderr in the tool, so stdout carries only results and
/// progress) and whether an error shows its stack trace (<c>--verbose</c>).
/// </summary>
public sealed class CliErrors(IAnsiConsole console, bool verbose = false)
{
    /// <summary>The error console.</summary>
    public IAnsiConsole Console { get; } = console;

    /// <summary>Print the .NET stack trace under the one-line message.</summary>
    public bool Verbose { get; } = verbose;

    /// <summary>
    /// Prints "Error: message" as one line (no stack trace unless <see cref="Verbose"/>) and returns <see cref="ExitCodes.Failure"/>.
    /// Exceptions that are not ours or the library's input checks (an internal fault) say their type, so a report can name it.
    /// </summary>
    public int Print(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        // ArgumentException appends " (Parameter 'x')" to Message; the library's messages already name the option.
        var message = e is ArgumentException { ParamName: not null } a && a.Message.EndsWith($" (Parameter '{a.ParamName}')", StringComparison.Ordinal)
            ? a.Message[..^$" (Parameter '{a.ParamName}')".Length]
            : e.Message;
        if (!IsInputError(e))
            message += $" ({e.GetType().Name}: an unexpected fault; rerun with --verbose for the stack trace and report it)";
        Line("[red]Error:[/] " + Markup.Escape(message.ReplaceLineEndings(" ").Trim()));
        if (Verbose)
            Console.WriteLine(e.ToString(), Style.Plain);
        return ExitCodes.Failure;
    }

    /// <summary>Writes one line of markup without wrapping it (logs and scripts read it as one line; a terminal still wraps it visually).</summary>
    public void Line(string markup)
    {
        // Spectre wraps at the profile width (80 columns when output is redirected): widen it for this line.
        int width = Console.Profile.Width;
        Console.Profile.Width = Math.Max(width, Markup.Remove(markup).Length + 1);
        try
        {
            Console.MarkupLine(markup);
        }
        finally
        {
            Console.Profile.Width = width;
        }
    }

    private static bool IsInputError(Exception e)
        => e is CliException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException or InvalidDataException
            or FormatException or NotSupportedException or OperationCanceledException;
}
