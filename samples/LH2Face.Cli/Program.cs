using LH2Face.Cli;
using Spectre.Console;

// Ctrl+C once: cancel between training steps and exit with a message. Ctrl+C again: the default (kill).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested)
        return;
    e.Cancel = true;
    cancellation.Cancel();
};
return CliApp.Run(args, AnsiConsole.Console, cancellation.Token);
