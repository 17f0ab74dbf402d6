namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// An image-folder data set (CASIA-WebFace style): root/&lt;identity&gt;/&lt;image&gt;.{jpg,jpeg,png}. Every
/// sub-folder of the root is an identity; its class index is its position among the folder names sorted
/// ordinally (as torchvision's ImageFolder does). Images are listed in ordinal file-name order within a folder;
/// files with other extensions and files directly under the root are ignored. Only paths are held in memory;
/// images are decoded when read.
/// </summary>
public sealed class ImageFolderReader
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    private readonly List<ImageFolderEntry> _entries;

    /// <summary>Lists the identities and images under <paramref name="root"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The root does not exist.</exception>
    public ImageFolderReader(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Image folder '{root}' does not exist: expected root/<identity>/<image>.jpg|jpeg|png.");
        }
        Root = Path.GetFullPath(root);
        var identities = Directory.EnumerateDirectories(Root).Select(d => Path.GetFileName(d)!).ToList();
        identities.Sort(StringComparer.Ordinal);
        Identities = identities;
        _entries = [];
        for (int label = 0; label < identities.Count; label++)
        {
            var files = Directory.EnumerateFiles(Path.Combine(Root, identities[label]))
                .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .ToList();
            files.Sort(StringComparer.Ordinal);
            foreach (var file in files)
            {
                _entries.Add(new ImageFolderEntry(file, identities[label], label));
            }
        }
    }

    /// <summary>The root folder.</summary>
    public string Root { get; }

    /// <summary>The identity names in key order (label index i is Identities[i]).</summary>
    public IReadOnlyList<string> Identities { get; }

    /// <summary>Every image as (path, identity, label index), identities in key order.</summary>
    public IReadOnlyList<ImageFolderEntry> Entries => _entries;

    /// <summary>
    /// The images as a streaming <see cref="IDataView"/>: "Image" (MLImage, loaded on demand), "Label" (uint key of
    /// <see cref="Identities"/>.Count values with the identity names as key values), "Identity" and "Path" (text). The
    /// view is an <see cref="IRandomAccessDataView"/>: any image can be read by its position in <see cref="Entries"/>.
    /// </summary>
    public IDataView ToDataView() => ToDataView(_entries, Identities);

    /// <summary>
    /// The same view (<see cref="ToDataView()"/>) over any list of <paramref name="entries"/>, for a list filtered or built
    /// elsewhere: each entry's <see cref="ImageFolderEntry.LabelIndex"/> indexes <paramref name="identities"/>, the key values.
    /// </summary>
    /// <exception cref="ArgumentException">A label index is outside <paramref name="identities"/>.</exception>
    public static IRandomAccessDataView ToDataView(IReadOnlyList<ImageFolderEntry> entries, IReadOnlyList<string> identities)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(identities);
        for (int i = 0; i < entries.Count; i++)
        {
            if ((uint)entries[i].LabelIndex >= (uint)identities.Count)
            {
                throw new ArgumentException($"Entry {i} ('{entries[i].Path}') has label index {entries[i].LabelIndex}; the {identities.Count} identities allow 0 to {identities.Count - 1}.", nameof(entries));
            }
        }
        return new IndexedRowDataView<ImageFolderEntry>(
            entries.Count,
            i => entries[i],
            ImageColumns.File<ImageFolderEntry>("Image", e => e.Path),
            ImageColumns.Key<ImageFolderEntry>("Label", identities.Count, e => e.LabelIndex, identities),
            ImageColumns.Text<ImageFolderEntry>("Identity", e => e.Identity),
            ImageColumns.Text<ImageFolderEntry>("Path", e => e.Path));
    }
}
