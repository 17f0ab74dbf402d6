// MSBuild wrapper around ElfVersionNeed.MarkWeak, run on the *output copies* of
// libLibTorchSharp.so (never on the NuGet cache). Compiled by RoslynCodeTaskFactory after being
// concatenated with ElfVersionNeed.cs (see build/LibTorchCompat.targets), hence the using
// directives inside the namespace block and netstandard2.0-only APIs.
#nullable enable

namespace LH2Face.Build
{
    using System;
    using System.Collections.Generic;
    using System.IO;
    using Microsoft.Build.Framework;

    /// <summary>
    /// Marks a symbol-version requirement (default GLIBCXX_3.4.32) weak in the given ELF files when
    /// this Linux machine's libstdc++ lacks it, so that dlopen accepts them. Idempotent; logs one
    /// line per run; does nothing off Linux or where the host libstdc++ has the version.
    /// </summary>
    public sealed class WeakenVersionNeedTask : Microsoft.Build.Utilities.Task
    {
        /// <summary>The ELF files to patch in place (output or publish copies only).</summary>
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The version requirement to mark weak, e.g. GLIBCXX_3.4.32.</summary>
        [Required]
        public string VersionName { get; set; } = string.Empty;

        /// <inheritdoc />
        public override bool Execute()
        {
            if (!ElfVersionNeed.HostHasGlibcxx(VersionName))
            {
                return Weaken();
            }

            // Off Linux, or this libstdc++ provides the version: the library loads as it is.
            Log.LogMessage(MessageImportance.Low, "LH2Face: this machine's libstdc++ provides " + VersionName + " (or this is not Linux); " + Describe(Files) + " left as is.");
            return true;
        }

        private bool Weaken()
        {
            var patched = new List<string>();
            var alreadyWeak = new List<string>();
            var notNeeded = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (ITaskItem item in Files)
            {
                string path = Path.GetFullPath(item.ItemSpec);
                if (!seen.Add(path))
                {
                    continue;
                }

                ElfVersionNeed.PatchResult result;
                try
                {
                    result = ElfVersionNeed.MarkWeak(path, VersionName);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
                {
                    Log.LogError("LH2Face: could not mark " + VersionName + " weak in " + path + ": " + e.Message);
                    return false;
                }

                switch (result)
                {
                    case ElfVersionNeed.PatchResult.Patched:
                        patched.Add(path);
                        break;
                    case ElfVersionNeed.PatchResult.AlreadyWeak:
                        alreadyWeak.Add(path);
                        break;
                    default:
                        notNeeded.Add(path);
                        break;
                }
            }

            // Exactly one line per run, whatever the mix of outcomes.
            if (patched.Count > 0)
            {
                string rest = alreadyWeak.Count > 0 ? "; already weak in " + string.Join(", ", alreadyWeak) : string.Empty;
                Log.LogMessage(MessageImportance.High, "LH2Face: marked " + VersionName + " weak in " + string.Join(", ", patched) + " (this libstdc++ lacks it)" + rest);
            }
            else if (alreadyWeak.Count > 0)
            {
                Log.LogMessage(MessageImportance.High, "LH2Face: " + VersionName + " already weak in " + string.Join(", ", alreadyWeak) + " (this libstdc++ lacks it)");
            }
            else
            {
                Log.LogMessage(MessageImportance.Low, "LH2Face: " + Describe(Files) + " does not require " + VersionName + "; nothing to patch.");
            }

            return true;
        }

        private static string Describe(ITaskItem[] files) =>
            files.Length == 0 ? "no file" : files.Length == 1 ? files[0].ItemSpec : files.Length + " files";
    }
}
