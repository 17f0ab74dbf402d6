using LH2Face.Cli;
using Spectre.Console;

// Under tcmalloc where it is installed (LH2FACE_ALLOCATOR=glibc keeps glibc): the process replaces itself before
// anything else runs (README, "Performance and memory").
try
{
    AllocatorLauncher.Apply();
}
catch (CliException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.Usage;
}

// Ctrl+C once: cancel between training steps and exit with a message. Ctrl+C again: the default (kill).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested)
        return;
    e.Cancel = true;
    cancellation.Cancel();
};
// Results and progress on stdout, errors on stderr (one line each; see ExitCodes for the exit status).
var errorConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
return CliApp.Run(args, AnsiConsole.Console, errorConsole, cancellation.Token);
