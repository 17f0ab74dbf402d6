namespace LH2Face.Cli;

/// <summary>A user error with a message fit to print as it is (no stack trace).</summary>
public sealed class CliException(string message) : Exception(message);
