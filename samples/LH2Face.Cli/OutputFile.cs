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
        if (File.Exists(full) && IsReadOnly(full))
            throw new CliException($"Cannot write the {what} '{path}': the file exists and is read-only; make it writable (chmod u+w) or choose another path.");
        ProveWritable(dir, $"the {what} '{path}'");
        return full;
    }

    /// <summary>
    /// Fails early when the folder <paramref name="folder"/> could not be written: it, or the nearest folder above it that
    /// exists (where it would be created), must take a new file. Nothing is left behind.
    /// </summary>
    public static void CheckFolderWritable(string folder, string option)
    {
        if (string.IsNullOrWhiteSpace(folder))
            throw new CliException($"{option} is empty: give the folder to write into.");
        var full = Path.GetFullPath(folder);
        if (File.Exists(full))
            throw new CliException($"{option} '{folder}' is a file; give a folder.");
        var existing = full;
        while (!Directory.Exists(existing))
            existing = Path.GetDirectoryName(existing) ?? throw new CliException($"{option} '{folder}': no part of the path exists.");
        ProveWritable(existing, $"into {option} '{folder}'");
    }

    private static bool IsReadOnly(string file)
        => OperatingSystem.IsWindows()
            ? File.GetAttributes(file).HasFlag(FileAttributes.ReadOnly)
            : (File.GetUnixFileMode(file) & UnixFileMode.UserWrite) == 0;

    /// <summary>Creates and deletes a temporary file in <paramref name="dir"/>: permissions, read-only mounts and quotas show here, before any work.</summary>
    private static void ProveWritable(string dir, string what)
    {
        var probe = Path.Combine(dir, $".lh2face-write-check.{Guid.NewGuid():N}.tmp");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new CliException($"Cannot write {what}: folder '{dir}' is not writable ({e.Message}); choose another path or fix its permissions.");
        }
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
