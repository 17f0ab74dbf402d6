// Reads and patches the symbol-version requirements (.gnu.version_r) of an ELF64 little-endian
// shared library, and reads the version definitions (.gnu.version_d) of the host's libstdc++.
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so requires GLIBCXX_3.4.32 for one symbol it never
// calls, but Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so dlopen fails. Marking that one
// requirement VER_FLG_WEAK in the *output copy* lets the dynamic loader accept the library.
//
// This file is compiled three times: into the MSBuild inline task (RoslynCodeTaskFactory, which builds
// against netstandard reference assemblies, so only netstandard2.0 APIs are used here), into the
// Microsoft.ML.LH2Face library (src/Microsoft.ML.LH2Face/Native/TorchSharpNative.cs does the same step at
// run time where no build step ran) and into test/LH2Face.Build.Tests. It must not depend on MSBuild and
// must never write to the console.
// The inline task concatenates this file with WeakenVersionNeedTask.cs into one compilation unit,
// which is why the using directives sit inside the namespace block.
#nullable enable

namespace LH2Face.Build
{
    using System;
    using System.Collections.Generic;
    using System.IO;
    using System.Runtime.InteropServices;
    using System.Text;

    /// <summary>
    /// Minimal, bounds-checked ELF64 (little-endian) reader for GNU symbol versioning: lists the
    /// versions a library needs, marks one of them weak, and reads the versions a library defines.
    /// Malformed or truncated input gives an <see cref="InvalidDataException"/> naming the file,
    /// what was wrong and the offset.
    /// </summary>
    internal static class ElfVersionNeed
    {
        /// <summary>Version-need entry flag: the dependency is weak (loader tolerates its absence).</summary>
        public const ushort VerFlagWeak = 0x2;

        /// <summary>Version-definition flag: the entry names the file itself, not a version.</summary>
        private const ushort VerFlagBase = 0x1;

        private const uint ShtStrtab = 3;
        private const uint ShtNobits = 8;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const int ElfHeaderSize = 64;
        private const int SectionHeaderSize = 64;
        private const int VerneedSize = 16;
        private const int VernauxSize = 16;
        private const int VerdefSize = 20;
        private const int VerdauxSize = 8;
        private const ushort ShnXindex = 0xffff;

        /// <summary>One required symbol version: which library must provide which version.</summary>
        internal sealed class VersionNeed
        {
            /// <summary>Creates an entry.</summary>
            public VersionNeed(string library, string version, ushort flags, uint hash, ushort other, long flagsOffset)
            {
                Library = library;
                Version = version;
                Flags = flags;
                Hash = hash;
                Other = other;
                FlagsOffset = flagsOffset;
            }

            /// <summary>The needed library's file name (vn_file), e.g. libstdc++.so.6.</summary>
            public string Library { get; }

            /// <summary>The version name (vna_name), e.g. GLIBCXX_3.4.32.</summary>
            public string Version { get; }

            /// <summary>vna_flags; <see cref="VerFlagWeak"/> marks a weak requirement.</summary>
            public ushort Flags { get; }

            /// <summary>vna_hash: the ELF hash of the version name.</summary>
            public uint Hash { get; }

            /// <summary>vna_other: the version index used by .gnu.version.</summary>
            public ushort Other { get; }

            /// <summary>Absolute file offset of this entry's 2-byte vna_flags field.</summary>
            public long FlagsOffset { get; }

            /// <summary>Whether the requirement is already weak.</summary>
            public bool IsWeak => (Flags & VerFlagWeak) != 0;

            /// <inheritdoc />
            public override string ToString() => Library + " " + Version + " flags=0x" + Flags.ToString("x");
        }

        /// <summary>Outcome of <see cref="MarkWeak"/>.</summary>
        internal enum PatchResult
        {
            /// <summary>The file does not require the version: left untouched.</summary>
            NotNeeded,

            /// <summary>Every requirement of the version is already weak: left untouched.</summary>
            AlreadyWeak,

            /// <summary>The requirement was marked weak (file replaced atomically).</summary>
            Patched,
        }

        /// <summary>Lists every (library, version, flags) requirement in the file's .gnu.version_r.</summary>
        /// <returns>The requirements in file order; empty when the file has no .gnu.version_r.</returns>
        public static IReadOnlyList<VersionNeed> Read(string path)
        {
            var image = new Image(path, File.ReadAllBytes(path));
            return ReadNeeds(image);
        }

        /// <summary>Lists the version names the file defines in .gnu.version_d (the base entry excluded).</summary>
        public static IReadOnlyList<string> ReadDefinedVersions(string path)
        {
            var image = new Image(path, File.ReadAllBytes(path));
            var result = new List<string>();
            foreach (Section section in ReadSections(image))
            {
                if (section.Type != ShtGnuVerdef)
                {
                    continue;
                }

                Section strings = LinkedStringTable(image, section, ".gnu.version_d");
                long position = 0;
                // A well-formed chain ends with vd_next == 0; the cap only stops a malformed cycle
                // (and is at least 1 so that a section too small for one entry is reported).
                long maxEntries = Math.Max(1, section.Size / VerdefSize);
                for (long i = 0; i < maxEntries; i++)
                {
                    long entry = section.Offset + position;
                    image.RequireWithin(section, entry, VerdefSize, "Verdef entry in .gnu.version_d");
                    ushort version = image.U16(entry);
                    if (version != 1)
                    {
                        throw image.Invalid(entry, "unsupported vd_version " + version + " in .gnu.version_d");
                    }

                    ushort flags = image.U16(entry + 2);
                    ushort auxCount = image.U16(entry + 6);
                    uint aux = image.U32(entry + 12);
                    uint next = image.U32(entry + 16);
                    if (auxCount > 0)
                    {
                        // The first Verdaux names the version; later ones name its parents.
                        long auxEntry = entry + aux;
                        image.RequireWithin(section, auxEntry, VerdauxSize, "Verdaux entry in .gnu.version_d");
                        string name = image.ReadString(strings, image.U32(auxEntry), "vda_name");
                        if ((flags & VerFlagBase) == 0)
                        {
                            result.Add(name);
                        }
                    }

                    if (next == 0)
                    {
                        break;
                    }

                    position += next;
                    if (position >= section.Size)
                    {
                        throw image.Invalid(entry + 16, "vd_next points outside .gnu.version_d");
                    }
                }
            }

            return result;
        }

        /// <summary>
        /// Marks every requirement of <paramref name="versionName"/> weak. Idempotent: when nothing
        /// needs changing the file is not rewritten. The change is made in a temporary copy in the
        /// same directory which then replaces the file by rename, so a failure never leaves a
        /// half-written library and a hard or symbolic link to the NuGet cache is replaced rather
        /// than written through. The file's last-write time is kept (see remarks in the code).
        /// </summary>
        public static PatchResult MarkWeak(string path, string versionName)
        {
            var image = new Image(path, File.ReadAllBytes(path));
            var targets = new List<VersionNeed>();
            foreach (VersionNeed need in ReadNeeds(image))
            {
                if (string.Equals(need.Version, versionName, StringComparison.Ordinal))
                {
                    targets.Add(need);
                }
            }

            if (targets.Count == 0)
            {
                return PatchResult.NotNeeded;
            }

            if (targets.TrueForAll(t => t.IsWeak))
            {
                return PatchResult.AlreadyWeak;
            }

            string fullPath = Path.GetFullPath(path);
            string directory = Path.GetDirectoryName(fullPath) ?? ".";
            string temp = Path.Combine(directory, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            // MSBuild's Copy (SkipUnchangedFiles) compares size and last-write time with the NuGet
            // source. Patching keeps the size; keeping the time too means the next build skips the
            // copy, sees the requirement already weak and rewrites nothing.
            DateTime lastWrite = File.GetLastWriteTimeUtc(fullPath);
            try
            {
                // File.Copy keeps the permission bits; the rename below replaces the directory entry.
                File.Copy(fullPath, temp, overwrite: true);
                using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    foreach (VersionNeed need in targets)
                    {
                        ushort flags = (ushort)(need.Flags | VerFlagWeak);
                        stream.Position = need.FlagsOffset;
                        stream.WriteByte((byte)(flags & 0xff));
                        stream.WriteByte((byte)(flags >> 8));
                    }

                    stream.Flush(flushToDisk: true);
                }

                // Re-read the copy before it replaces the original: a mistake must not ship.
                foreach (VersionNeed need in Read(temp))
                {
                    if (string.Equals(need.Version, versionName, StringComparison.Ordinal) && !need.IsWeak)
                    {
                        throw new InvalidDataException(path + ": " + versionName + " still not weak after patching the temporary copy " + temp);
                    }
                }

                File.SetLastWriteTimeUtc(temp, lastWrite);
                // netstandard2.0 has no File.Move(overwrite); File.Replace without a backup is a
                // rename(2) on Unix, which atomically swaps the directory entry.
                File.Replace(temp, fullPath, destinationBackupFileName: null);
            }
            finally
            {
                if (File.Exists(temp))
                {
                    File.Delete(temp);
                }
            }

            return PatchResult.Patched;
        }

        /// <summary>
        /// Whether this machine's libstdc++ defines <paramref name="version"/> (e.g. GLIBCXX_3.4.32).
        /// Always true off Linux, where the problem does not arise. On Linux without a libstdc++ at
        /// the standard paths it is false: nothing proves the version is there, and a weak
        /// requirement is harmless where it is.
        /// </summary>
        public static bool HostHasGlibcxx(string version)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                return true;
            }

            string? library = FindHostLibStdCxx();
            if (library == null)
            {
                return false;
            }

            foreach (string defined in ReadDefinedVersions(library))
            {
                if (string.Equals(defined, version, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The system libstdc++.so.6 the dynamic loader would find at the standard paths, or null.</summary>
        public static string? FindHostLibStdCxx()
        {
            var directories = new List<string>();
            // Prefer this process's multiarch directory: a foreign-architecture libstdc++ may also be installed.
            switch (RuntimeInformation.ProcessArchitecture)
            {
                case Architecture.X64:
                    directories.Add("/usr/lib/x86_64-linux-gnu");
                    directories.Add("/lib/x86_64-linux-gnu");
                    break;
                case Architecture.Arm64:
                    directories.Add("/usr/lib/aarch64-linux-gnu");
                    directories.Add("/lib/aarch64-linux-gnu");
                    break;
            }

            directories.Add("/usr/lib64");
            directories.Add("/lib64");
            directories.Add("/usr/lib");
            directories.Add("/lib");
            foreach (string directory in directories)
            {
                string candidate = Path.Combine(directory, "libstdc++.so.6");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        private static List<VersionNeed> ReadNeeds(Image image)
        {
            var result = new List<VersionNeed>();
            foreach (Section section in ReadSections(image))
            {
                if (section.Type != ShtGnuVerneed)
                {
                    continue;
                }

                Section strings = LinkedStringTable(image, section, ".gnu.version_r");
                long position = 0;
                // A well-formed chain ends with vn_next == 0; the cap only stops a malformed cycle
                // (and is at least 1 so that a section too small for one entry is reported).
                long maxEntries = Math.Max(1, section.Size / VerneedSize);
                for (long i = 0; i < maxEntries; i++)
                {
                    long entry = section.Offset + position;
                    image.RequireWithin(section, entry, VerneedSize, "Verneed entry in .gnu.version_r");
                    ushort version = image.U16(entry);
                    if (version != 1)
                    {
                        throw image.Invalid(entry, "unsupported vn_version " + version + " in .gnu.version_r");
                    }

                    ushort count = image.U16(entry + 2);
                    string library = image.ReadString(strings, image.U32(entry + 4), "vn_file");
                    uint aux = image.U32(entry + 8);
                    uint next = image.U32(entry + 12);

                    long auxEntry = entry + aux;
                    for (int j = 0; j < count; j++)
                    {
                        image.RequireWithin(section, auxEntry, VernauxSize, "Vernaux entry of " + library + " in .gnu.version_r");
                        uint hash = image.U32(auxEntry);
                        ushort flags = image.U16(auxEntry + 4);
                        ushort other = image.U16(auxEntry + 6);
                        string name = image.ReadString(strings, image.U32(auxEntry + 8), "vna_name");
                        result.Add(new VersionNeed(library, name, flags, hash, other, auxEntry + 4));
                        uint auxNext = image.U32(auxEntry + 12);
                        if (auxNext == 0)
                        {
                            if (j != count - 1)
                            {
                                throw image.Invalid(auxEntry + 12, "vna_next ends the chain of " + library + " after " + (j + 1) + " of vn_cnt " + count + " entries");
                            }

                            break;
                        }

                        auxEntry += auxNext;
                    }

                    if (next == 0)
                    {
                        break;
                    }

                    position += next;
                    if (position >= section.Size)
                    {
                        throw image.Invalid(entry + 12, "vn_next points outside .gnu.version_r");
                    }
                }
            }

            return result;
        }

        private static Section LinkedStringTable(Image image, Section section, string name)
        {
            if (section.Link == 0 || section.Link >= image.SectionCount)
            {
                throw image.Invalid(section.HeaderOffset, name + " sh_link " + section.Link + " is not a section index (" + image.SectionCount + " sections)");
            }

            Section strings = ReadSection(image, (int)section.Link);
            if (strings.Type != ShtStrtab)
            {
                throw image.Invalid(strings.HeaderOffset, name + " links to section " + section.Link + " of type 0x" + strings.Type.ToString("x") + ", not a string table");
            }

            return strings;
        }

        private static List<Section> ReadSections(Image image)
        {
            var sections = new List<Section>();
            for (int i = 0; i < image.SectionCount; i++)
            {
                sections.Add(ReadSection(image, i));
            }

            return sections;
        }

        private static Section ReadSection(Image image, int index)
        {
            long header = image.SectionHeaderOffset + ((long)index * image.SectionHeaderEntrySize);
            image.Require(header, SectionHeaderSize, "section header " + index);
            var section = new Section(
                header,
                image.U32(header + 4),
                image.U64(header + 24),
                image.U64(header + 32),
                image.U32(header + 40));
            if (section.Type != ShtNobits && section.Size > 0)
            {
                image.Require(section.Offset, section.Size, "contents of section " + index);
            }

            return section;
        }

        /// <summary>A section header, reduced to the fields this reader uses; offsets are file offsets.</summary>
        private readonly struct Section
        {
            public Section(long headerOffset, uint type, long offset, long size, uint link)
            {
                HeaderOffset = headerOffset;
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
            }

            public long HeaderOffset { get; }

            public uint Type { get; }

            public long Offset { get; }

            public long Size { get; }

            public uint Link { get; }
        }

        /// <summary>The file's bytes plus the validated ELF header fields; every read is bounds-checked.</summary>
        private sealed class Image
        {
            private readonly string _path;
            private readonly byte[] _data;

            public Image(string path, byte[] data)
            {
                _path = path;
                _data = data;
                if (data.Length < 16)
                {
                    throw Invalid(0, "truncated: " + data.Length + " bytes, too short for an ELF identification (16 bytes)");
                }

                if (data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
                {
                    throw Invalid(0, "not an ELF file (bad magic)");
                }

                if (data[4] != 2)
                {
                    throw Invalid(4, "EI_CLASS " + data[4] + " is not ELFCLASS64 (2); only 64-bit ELF is supported");
                }

                if (data[5] != 1)
                {
                    throw Invalid(5, "EI_DATA " + data[5] + " is not ELFDATA2LSB (1); only little-endian ELF is supported");
                }

                Require(0, ElfHeaderSize, "ELF64 header");
                long sectionHeaderOffset = U64(0x28);
                int entrySize = U16(0x3a);
                long count = U16(0x3c);
                int stringIndex = U16(0x3e);
                if (sectionHeaderOffset == 0)
                {
                    // No section header table (legal for a loadable file): nothing to read or patch.
                    return;
                }

                if (entrySize < SectionHeaderSize)
                {
                    throw Invalid(0x3a, "e_shentsize " + entrySize + " is smaller than an ELF64 section header (64)");
                }

                Require(sectionHeaderOffset, entrySize, "section header table (e_shoff)");
                if (count == 0)
                {
                    // Extended numbering: the real count lives in section 0's sh_size.
                    count = U64(sectionHeaderOffset + 32);
                }

                if (stringIndex == ShnXindex)
                {
                    // Extended numbering: the real index lives in section 0's sh_link.
                    stringIndex = (int)U32(sectionHeaderOffset + 40);
                }

                if (count > (_data.Length - sectionHeaderOffset) / entrySize)
                {
                    throw Invalid(sectionHeaderOffset, "section header table of " + count + " entries of " + entrySize + " bytes runs past the end of the file (" + _data.Length + " bytes)");
                }

                if (stringIndex >= count)
                {
                    throw Invalid(0x3e, "e_shstrndx " + stringIndex + " is not a section index (" + count + " sections)");
                }

                SectionHeaderOffset = sectionHeaderOffset;
                SectionHeaderEntrySize = entrySize;
                SectionCount = (int)count;
            }

            public long SectionHeaderOffset { get; }

            public int SectionHeaderEntrySize { get; }

            public int SectionCount { get; }

            public InvalidDataException Invalid(long offset, string what) =>
                new InvalidDataException(_path + ": " + what + " (offset 0x" + offset.ToString("x") + ")");

            public void Require(long offset, long length, string what)
            {
                if (offset < 0 || length < 0 || offset > _data.Length || length > _data.Length - offset)
                {
                    throw Invalid(offset, "truncated or malformed: " + what + " (" + length + " bytes) lies outside the file (" + _data.Length + " bytes)");
                }
            }

            public void RequireWithin(Section section, long offset, long length, string what)
            {
                if (offset < section.Offset || offset + length > section.Offset + section.Size)
                {
                    throw Invalid(offset, what + " (" + length + " bytes) lies outside its section [0x" + section.Offset.ToString("x") + ", 0x" + (section.Offset + section.Size).ToString("x") + ")");
                }
            }

            public ushort U16(long offset)
            {
                Require(offset, 2, "16-bit field");
                return (ushort)(_data[offset] | (_data[offset + 1] << 8));
            }

            public uint U32(long offset)
            {
                Require(offset, 4, "32-bit field");
                return (uint)(_data[offset] | (_data[offset + 1] << 8) | (_data[offset + 2] << 16) | (_data[offset + 3] << 24));
            }

            public long U64(long offset)
            {
                Require(offset, 8, "64-bit field");
                ulong low = U32(offset);
                ulong high = U32(offset + 4);
                ulong value = low | (high << 32);
                if (value > long.MaxValue)
                {
                    throw Invalid(offset, "64-bit offset or size 0x" + value.ToString("x") + " is out of range");
                }

                return (long)value;
            }

            public string ReadString(Section table, uint index, string what)
            {
                if (index >= table.Size)
                {
                    throw Invalid(table.Offset + index, what + " string index " + index + " is outside its string table (" + table.Size + " bytes)");
                }

                long start = table.Offset + index;
                long end = table.Offset + table.Size;
                for (long i = start; i < end; i++)
                {
                    if (_data[i] == 0)
                    {
                        return Encoding.UTF8.GetString(_data, (int)start, (int)(i - start));
                    }
                }

                throw Invalid(start, what + " string is not NUL-terminated within its string table");
            }
        }
    }
}
