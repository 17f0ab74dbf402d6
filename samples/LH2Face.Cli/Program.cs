using LH2Face.Cli;
using Spectre.Console;

// libtorch frees and reallocates every activation each step: keep that memory in the heap (see GlibcHeap).
GlibcHeap.KeepFreedMemory();

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
