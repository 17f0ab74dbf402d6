namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>One face crop of IJB-B/IJB-C: a line of *_face_tid_mid.txt joined with the same line of *_name_5pts_score.txt.</summary>
/// <param name="ImageName">File name of the crop in loose_crop/.</param>
/// <param name="TemplateId">The template the face belongs to.</param>
/// <param name="MediaId">The media (photo or video) the face comes from.</param>
/// <param name="Landmarks">The five points x1, y1, ..., x5, y5 in crop pixels.</param>
/// <param name="Faceness">The detector's face score.</param>
public sealed record IjbFace(string ImageName, int TemplateId, int MediaId, float[] Landmarks, float Faceness);
