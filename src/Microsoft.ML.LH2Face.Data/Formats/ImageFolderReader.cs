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
    /// <see cref="Identities"/>.Count values with the identity names as key values), "Identity" and "Path" (text).
    /// </summary>
    public IDataView ToDataView()
        => new RowDataView<ImageFolderEntry>(
            () => _entries,
            _entries.Count,
            ImageColumns.File<ImageFolderEntry>("Image", e => e.Path),
            ImageColumns.Key<ImageFolderEntry>("Label", Identities.Count, e => e.LabelIndex, Identities),
            ImageColumns.Text<ImageFolderEntry>("Identity", e => e.Identity),
            ImageColumns.Text<ImageFolderEntry>("Path", e => e.Path));
}
