namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>One image of an image-folder data set.</summary>
/// <param name="Path">Full path of the image file.</param>
/// <param name="Identity">The identity: the name of the folder holding the image.</param>
/// <param name="LabelIndex">0-based class index: the folder's position in ordinal-sorted folder names.</param>
public readonly record struct ImageFolderEntry(string Path, string Identity, int LabelIndex);
