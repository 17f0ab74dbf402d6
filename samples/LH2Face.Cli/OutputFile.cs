namespace LH2Face.Cli;

/// <summary>Writes output files to a temporary name in the target folder and moves them into place.</summary>
public static class OutputFile
{
    /// <summary>Fails early when the folder of <paramref name="path"/> does not exist.</summary>
    public static string CheckWritable(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new CliException($"The {what} path is empty.");
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new CliException($"The {what} path '{path}' is a folder; give a file name.");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new CliException($"Cannot write the {what} '{path}': folder '{dir}' does not exist.");
        return full;
    }

    /// <summary>Calls <paramref name="write"/> with a temporary path next to <paramref name="path"/>, then moves it over <paramref name="path"/>.</summary>
    public static void WriteAtomically(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}
