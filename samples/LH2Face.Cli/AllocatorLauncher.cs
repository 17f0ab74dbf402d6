using System.Runtime.InteropServices;

namespace LH2Face.Cli;

/// <summary>
/// Runs the command-line tool under tcmalloc where it is installed: libtorch allocates every activation of a step
/// afresh, and tcmalloc reuses the freed blocks without glibc's page faults and without keeping every block glibc's
/// KeepFreed setting keeps (README, "Performance and memory": the main job's peak 4.47 GiB under KeepFreed, 2.34 GiB
/// under tcmalloc, the same losses). A malloc replacement must be loaded before the runtime starts, so at the start of
/// Main the process replaces itself (execve of /proc/self/exe with the same arguments, the same process id) with
/// LD_PRELOAD naming the library. Chosen by the environment variable <see cref="Variable"/>: unset or "auto" preloads
/// libtcmalloc_minimal.so.4 when one of <see cref="TcmallocCandidates"/> exists; "glibc" never does; an absolute path
/// preloads that library. Nothing happens off Linux, when a replacement is already preloaded, or in the replaced
/// process (<see cref="Marker"/>). In-process callers of <see cref="CliApp.Run"/> (tests, hosts) are not affected.
/// </summary>
public static class AllocatorLauncher
{
    /// <summary>The environment variable that chooses the allocator: auto (default), glibc, or the path of a malloc library.</summary>
    public const string Variable = "LH2FACE_ALLOCATOR";

    /// <summary>Set in the replaced process so that it never replaces itself again, whatever LD_PRELOAD then holds.</summary>
    public const string Marker = "LH2FACE_ALLOCATOR_APPLIED";

    /// <summary>Where Debian, Ubuntu, Fedora and Arch install gperftools' tcmalloc (libtcmalloc-minimal4 / gperftools-libs).</summary>
    public static readonly string[] TcmallocCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
        "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
        "/usr/lib64/libtcmalloc_minimal.so.4",
        "/usr/lib/libtcmalloc_minimal.so.4",
    };

    /// <summary>
    /// Malloc replacements recognised in LD_PRELOAD: the names the library's GlibcHeap recognises once loaded, kept here
    /// because the launcher decides before the library is loaded (AllocatorLauncherTests checks that the lists agree).
    /// </summary>
    public static readonly IReadOnlyList<string> Replacements = ["tcmalloc", "jemalloc", "mimalloc"];

    /// <summary>
    /// The library to preload, or null to run as started. <paramref name="setting"/> is <see cref="Variable"/>'s value,
    /// <paramref name="ldPreload"/> LD_PRELOAD's, <paramref name="marker"/> <see cref="Marker"/>'s. Throws a
    /// <see cref="CliException"/> naming the variable for a value that is neither a mode nor an existing absolute path.
    /// </summary>
    public static string? Choose(string? setting, string? ldPreload, string? marker, bool isLinux, Func<string, bool> exists)
    {
        string value = setting?.Trim() ?? "";
        bool auto = value.Length == 0 || value.Equals("auto", StringComparison.OrdinalIgnoreCase);
        bool glibc = value.Equals("glibc", StringComparison.OrdinalIgnoreCase);
        if (!auto && !glibc && !(Path.IsPathRooted(value) && exists(value)))
            throw new CliException($"{Variable} is '{value}': use auto (tcmalloc when installed, the default), glibc (no preloaded allocator), " +
                "or the absolute path of an existing malloc library such as /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.");
        if (!isLinux || glibc || !string.IsNullOrEmpty(marker))
            return null;
        if ((ldPreload ?? "").Split(':', ' ').Any(entry => Replacements.Any(r => Path.GetFileName(entry).Contains(r, StringComparison.Ordinal))))
            return null;
        return auto ? TcmallocCandidates.FirstOrDefault(exists) : value;
    }

    /// <summary>The arguments of a /proc/PID/cmdline text: each ends with a NUL, so an empty argument (last or not) survives.</summary>
    public static string[] Arguments(string cmdline)
        => (cmdline.EndsWith('\0') ? cmdline[..^1] : cmdline).Split('\0');

    /// <summary>LD_PRELOAD with <paramref name="library"/> first, the entries already there kept after it.</summary>
    public static string Preload(string library, string? ldPreload)
        => string.IsNullOrWhiteSpace(ldPreload) ? library : library + ":" + ldPreload;

    /// <summary>
    /// Replaces this process with itself under the chosen allocator (returns only when there is nothing to do or execve
    /// failed, and then the tool runs as started). Call first thing in Main, before any thread of ours starts.
    /// </summary>
    public static void Apply()
    {
        string? library = Choose(Environment.GetEnvironmentVariable(Variable), Environment.GetEnvironmentVariable("LD_PRELOAD"),
            Environment.GetEnvironmentVariable(Marker), OperatingSystem.IsLinux(), File.Exists);
        if (library is null)
            return;
        string[] argv;
        try
        {
            // The command line as the kernel started it (the host, e.g. "dotnet lh2face.dll ...", or the apphost).
            argv = Arguments(File.ReadAllText("/proc/self/cmdline"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        environment["LD_PRELOAD"] = Preload(library, environment.GetValueOrDefault("LD_PRELOAD"));
        environment[Marker] = library;
        var envp = environment.Select(e => e.Key + "=" + e.Value).Append(null).ToArray();
        Console.Out.Flush();
        execve("/proc/self/exe", argv.Append(null).ToArray(), envp);
        // Only reached when execve failed (e.g. a sandbox forbids it): run on under glibc.
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(string path, string?[] argv, string?[] envp);
}
